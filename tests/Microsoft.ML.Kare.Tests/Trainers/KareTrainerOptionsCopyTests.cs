using System.Linq;
using System.Reflection;
using System.Threading;
using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>
/// A trainer keeps a copy of its options (<see cref="KareTraining.Copy"/>): every public field, inherited ones
/// included, is copied, and arrays are copied rather than shared, so that changing the caller's options after creating
/// the trainer changes nothing.
/// </summary>
[TestClass]
public sealed class KareTrainerOptionsCopyTests
{
    [TestMethod]
    public void EveryPublicFieldIsCopiedAndArraysAreNotShared()
    {
        AssertCopied(new KareRegressionTrainer.Options(), KareTraining.Copy);
        AssertCopied(new KareBinaryTrainer.Options(), KareTraining.Copy);
        AssertCopied(new KareMulticlassTrainer.Options(), KareTraining.Copy);
    }

    [TestMethod]
    public void TheTrainerIsNotChangedByLaterChangesToTheCallersOptions()
    {
        var options = new KareRegressionTrainer.Options { HiddenLayerWidths = new[] { 5 }, RidgeGrid = new[] { 0.5 }, NumberOfEpochs = 3 };
        KareRegressionTrainer trainer = new MLContext(seed: 0).Regression.Trainers.Kare(options);
        options.HiddenLayerWidths[0] = 99;
        options.RidgeGrid[0] = 99;
        options.NumberOfEpochs = 99;
        Assert.AreNotSame(options, trainer.TrainerOptions);
        var settings = KareRegressionTrainer.CreateSettings(trainer.TrainerOptions, seed: 1);
        CollectionAssert.AreEqual(new[] { 5 }, settings.HiddenWidths.ToArray());
        CollectionAssert.AreEqual(new[] { 0.5 }, settings.RelativeRidgeGrid.ToArray());
        Assert.AreEqual(3, settings.Epochs);
    }

    /// <summary>Sets every public instance field of <paramref name="options"/> to a value unlike its default, copies, and compares.</summary>
    private static void AssertCopied<TOptions>(TOptions options, Func<TOptions, TOptions> copy)
        where TOptions : KareTrainerOptionsBase, new()
    {
        FieldInfo[] fields = typeof(TOptions).GetFields(BindingFlags.Public | BindingFlags.Instance);
        Assert.IsGreaterThan(20, fields.Length, "the options' public fields, inherited ones included");
        var defaults = new TOptions();
        using var cancellation = new CancellationTokenSource();
        foreach (FieldInfo field in fields)
        {
            object value = DistinctValue(field, cancellation.Token);
            Assert.AreNotEqual(Describe(field.GetValue(defaults)), Describe(value), $"{field.Name}: the test value must differ from the default");
            field.SetValue(options, value);
        }

        TOptions copied = copy(options);
        Assert.AreNotSame(options, copied);
        foreach (FieldInfo field in fields)
        {
            object? expected = field.GetValue(options);
            object? actual = field.GetValue(copied);
            Assert.AreEqual(Describe(expected), Describe(actual), $"{typeof(TOptions).DeclaringType?.Name}.Options.{field.Name} is not copied");
            if (expected is Array)
                Assert.AreNotSame(expected, actual, $"{field.Name}: the array is shared with the caller's options");
        }
    }

    /// <summary>A value of the field's type that this option does not have by default.</summary>
    private static object DistinctValue(FieldInfo field, CancellationToken token)
    {
        Type type = Nullable.GetUnderlyingType(field.FieldType) ?? field.FieldType;
        if (type.IsEnum)
        {
            object? byDefault = field.GetValue(Activator.CreateInstance(field.DeclaringType!.IsAbstract ? typeof(KareRegressionTrainer.Options) : field.DeclaringType));
            return Enum.GetValues(type).Cast<object>().Last(v => !v.Equals(byDefault));
        }
        return type switch
        {
            _ when type == typeof(string) => "column " + field.Name,
            _ when type == typeof(int) => 7 + field.Name.Length,
            _ when type == typeof(double) => 0.37,
            _ when type == typeof(bool) => !(bool)field.GetValue(Activator.CreateInstance(field.DeclaringType!.IsAbstract ? typeof(KareRegressionTrainer.Options) : field.DeclaringType))!,
            _ when type == typeof(int[]) => new[] { 3, 5, 7 },
            _ when type == typeof(double[]) => new[] { 0.25, 4.0 },
            _ when type == typeof(CancellationToken) => token,
            _ when type == typeof(IProgress<KareEpochSummary>) => new Progress<KareEpochSummary>(),
            _ => throw new AssertFailedException($"Option {field.Name} has type {type}: give the test a value for it."),
        };
    }

    /// <summary>Compares arrays by content and everything else by value (reference types by identity).</summary>
    private static object? Describe(object? value) => value is Array array ? string.Join(",", array.Cast<object>()) : value;
}
