using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.Kare.LibTorch;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Mono.Cecil;
using Mono.Cecil.Cil;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Tests.Reliability;

/// <summary>
/// TorchSharp's implicit scalars can be freed by a collection while libtorch reads them (<see cref="HeldScalars"/>):
/// the library must not create any, and the held versions must compute what TorchSharp's operators compute.
/// </summary>
[TestClass]
public sealed class HeldScalarsTests
{
    private const string ImplicitConversion = "op_Implicit";

    /// <summary>
    /// No method of the two assemblies makes a TorchSharp scalar, itself or through a TorchSharp method (<c>tensor +
    /// tensor</c>, <c>square()</c>, <c>add_(tensor)</c>, <c>ToDouble()</c>, …), read from the built IL; HeldScalars alone
    /// calls <c>ToScalar</c>, and holds what it returns. Calls are matched by full name (TorchSharp's generic methods,
    /// virtual overrides and delegates are not followed: the library uses none that make scalars).
    /// </summary>
    [TestMethod]
    [DataRow("Microsoft.ML.Kare.Trainers")]
    [DataRow("Microsoft.ML.Kare")]
    public void TheLibraryCreatesNoImplicitScalar(string assemblyName)
    {
        HashSet<string> creating = TorchSharpMethodsCreatingImplicitScalars();
        using var assembly = AssemblyDefinition.ReadAssembly(Path.Combine(AppContext.BaseDirectory, assemblyName + ".dll"));
        var offences = new SortedSet<string>(StringComparer.Ordinal);
        foreach (MethodDefinition method in assembly.MainModule.GetTypes().SelectMany(t => t.Methods).Where(m => m.HasBody))
        {
            foreach (Instruction instruction in method.Body.Instructions)
            {
                if (instruction.Operand is MethodReference callee && (CreatesScalar(callee) || creating.Contains(callee.FullName))
                    && !IsHeldScalarsMaking(method, callee))
                    offences.Add($"{method.DeclaringType.FullName}.{method.Name} calls {callee.DeclaringType.Name}.{callee.Name}({string.Join(", ", callee.Parameters.Select(p => p.ParameterType.Name))})");
            }
        }
        Assert.IsEmpty(offences,
            $"{assemblyName} creates TorchSharp scalars implicitly; use HeldScalars instead:\n  {string.Join("\n  ", offences)}");
    }

    [TestMethod]
    public void TheScanFindsTorchSharpsImplicitScalars()
    {
        // The check above must be able to fail: these TorchSharp members create an implicit scalar, directly or not.
        HashSet<string> creating = TorchSharpMethodsCreatingImplicitScalars();
        string[] names = creating.Select(n => n[(n.IndexOf(' ') + 1)..]).ToArray();
        Assert.IsTrue(names.Any(n => n.StartsWith("TorchSharp.torch/Tensor::op_Addition(TorchSharp.torch/Tensor,TorchSharp.torch/Tensor)", StringComparison.Ordinal)), "tensor + tensor (alpha 1)");
        Assert.IsTrue(names.Any(n => n.StartsWith("TorchSharp.torch/Tensor::square()", StringComparison.Ordinal)), "square (exponent 2)");
        Assert.IsTrue(names.Any(n => n.StartsWith("TorchSharp.torch/Tensor::op_Multiply(TorchSharp.torch/Tensor,System.Double)", StringComparison.Ordinal)), "tensor * double");
        Assert.IsFalse(names.Any(n => n.StartsWith("TorchSharp.torch/Tensor::add(TorchSharp.torch/Tensor,TorchSharp.Scalar)", StringComparison.Ordinal)), "add with an explicit alpha");
        Assert.IsTrue(names.Any(n => n.StartsWith("TorchSharp.TensorExtensionMethods::ToDouble(TorchSharp.torch/Tensor)", StringComparison.Ordinal)), "ToDouble (the tensor's item as a scalar)");
        Assert.IsFalse(names.Any(n => n.StartsWith("TorchSharp.torch/Tensor::mm(", StringComparison.Ordinal)), "mm takes no scalar");
    }

    /// <summary>Each held operation gives bit for bit what the TorchSharp operator it replaces gives.</summary>
    [TestMethod]
    public void HeldOperationsEqualTorchSharpsOperators()
    {
        TorchRuntime.Initialize();
        using var scope = torch.NewDisposeScope();
        var generator = new Random(3);
        Tensor Random(params long[] shape)
            => torch.tensor(Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b)).Select(_ => generator.NextDouble() * 4 - 2).ToArray(), shape, ScalarType.Float64);
        Tensor a = Random(5, 4), b = Random(5, 4), c = Random(5, 4);
        const double value = 0.7310585786300049;
        const long count = 7;

        AssertEqual(a + b, a.Plus(b), "Plus(tensor)");
        AssertEqual(a + value, a.Plus(value), "Plus(double)");
        AssertEqual(value - a, a.SubtractedFrom(value), "SubtractedFrom");
        AssertEqual(a * value, a.Times(value), "Times(double)");
        AssertEqual(a * count, a.Times(count), "Times(long)");
        AssertEqual(a / value, a.DividedBy(value), "DividedBy(double)");
        AssertEqual(a / count, a.DividedBy(count), "DividedBy(long)");
        AssertEqual(a.square(), a.Squared(), "Squared");
        Assert.AreEqual(BitConverter.DoubleToInt64Bits(a.sum().ToDouble()), BitConverter.DoubleToInt64Bits(a.sum().ScalarValue()), "ScalarValue");
        AssertEqual(a.clamp_min(0.25), a.ClampMin(0.25), "ClampMin");
        AssertEqual(a > 0, a.GreaterThan(0), "GreaterThan(int)");
        AssertEqual(a > value, a.GreaterThan(value), "GreaterThan(double)");
        AssertEqual(torch.full_like(a, value), a.FullLike(value), "FullLike");
        AssertEqual(a.clone().add_(b), a.clone().AddInPlace(b), "AddInPlace(tensor)");
        AssertEqual(a.clone().add_(value), a.clone().AddInPlace(value), "AddInPlace(double)");
        AssertEqual(a.clone().add_(b, alpha: -value), a.clone().AddScaledInPlace(b, -value), "AddScaledInPlace");
        AssertEqual(a.clone().mul_(value), a.clone().MultiplyInPlace(value), "MultiplyInPlace");
        AssertEqual(a.clone().div_(value), a.clone().DivideInPlace(value), "DivideInPlace(double)");
        AssertEqual(a.clone().div_(count), a.clone().DivideInPlace(count), "DivideInPlace(long)");
        AssertEqual(a.clone().fill_(value), a.clone().FillInPlace(value), "FillInPlace");
        AssertEqual(a.clone().addcmul_(b, c, value), a.clone().AddProductInPlace(b, c, value), "AddProductInPlace");
        // The in-place forms return the tensor they changed, as TorchSharp's do.
        Tensor target = a.clone();
        Assert.AreSame(target, target.AddInPlace(value));
        Assert.AreSame(target, target.MultiplyInPlace(value));
    }

    private static void AssertEqual(Tensor expected, Tensor actual, string operation)
    {
        Assert.AreEqual(expected.dtype, actual.dtype, operation);
        CollectionAssert.AreEqual(expected.shape, actual.shape, operation);
        long[] Bits(Tensor t) => t.to_type(ScalarType.Float64).contiguous().data<double>().ToArray().Select(BitConverter.DoubleToInt64Bits).ToArray();
        CollectionAssert.AreEqual(Bits(expected), Bits(actual), $"{operation}: not bit for bit equal to TorchSharp's operator.");
    }

    /// <summary>
    /// HeldScalars' own making of a scalar, which it holds in a <c>using</c> or a static field: a <c>ToScalar</c> call there,
    /// and nothing else (an operator or implicit conversion inside HeldScalars is flagged like any other).
    /// </summary>
    private static bool IsHeldScalarsMaking(MethodDefinition caller, MethodReference callee)
        => caller.DeclaringType.FullName == typeof(HeldScalars).FullName && callee.Name == "ToScalar";

    /// <summary>A call that makes a TorchSharp scalar: its constructor or an implicit conversion (which calls it).</summary>
    private static bool CreatesScalar(MethodReference method)
        => method.DeclaringType.FullName == "TorchSharp.Scalar" && method.Name is ".ctor" or ImplicitConversion;

    /// <summary>
    /// TorchSharp's methods (full names) that make a scalar and leave it to the finalizer: those that construct one,
    /// directly or through other TorchSharp methods (<c>tensor + tensor</c>, <c>square()</c>, <c>ToDouble()</c>, the
    /// implicit conversions, <c>ToScalar</c>). <see cref="HeldScalars"/> alone may call these, holding what they return.
    /// </summary>
    private static HashSet<string> TorchSharpMethodsCreatingImplicitScalars()
    {
        using var torchSharp = AssemblyDefinition.ReadAssembly(Path.Combine(AppContext.BaseDirectory, "TorchSharp.dll"));
        var calls = torchSharp.MainModule.GetTypes().SelectMany(t => t.Methods).Where(m => m.HasBody)
            .ToDictionary(m => m.FullName, m => m.Body.Instructions.Select(i => i.Operand).OfType<MethodReference>().ToArray());
        var creating = calls.Where(c => c.Value.Any(CreatesScalar)).Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        for (bool grew = true; grew;)
        {
            grew = false;
            foreach (var (name, callees) in calls)
            {
                if (!creating.Contains(name) && callees.Any(c => creating.Contains(c.FullName)))
                    grew = creating.Add(name);
            }
        }
        return creating;
    }
}
