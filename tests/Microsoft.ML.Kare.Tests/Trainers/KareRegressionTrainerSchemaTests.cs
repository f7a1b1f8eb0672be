using System.Linq;
using System;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>Schema errors surface at Fit (before any training) and name the offending column.</summary>
[TestClass]
public sealed class KareRegressionTrainerSchemaTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void TextLabelIsRejectedNamingTheColumn()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView data = mlContext.Data.LoadFromEnumerable(new[] { new TextLabelRow { Target = "a", Features = new float[3] } });
        var ex = Assert.Throws<ArgumentException>(() => mlContext.Regression.Trainers.Kare(labelColumnName: "Target").Fit(data));
        StringAssert.Contains(ex.Message, "'Target'");
        StringAssert.Contains(ex.Message, "expected Single");
    }

    [TestMethod]
    public void VectorLabelIsRejectedNamingTheColumn()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView data = mlContext.Data.LoadFromEnumerable(new[] { new VectorLabelRow { Label = new float[2], Features = new float[3] } });
        var ex = Assert.Throws<ArgumentException>(() => mlContext.Regression.Trainers.Kare().Fit(data));
        StringAssert.Contains(ex.Message, "'Label'");
    }

    /// <summary>
    /// A Double label is refused at Fit, naming the column and the conversion, as FastTree does: ML.NET's regression
    /// evaluator needs a Single label, so accepting it would fail only after training.
    /// </summary>
    [TestMethod]
    public void DoubleLabelIsRefusedAtFitNamingTheColumnAndTheConversion()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView data = mlContext.Data.LoadFromEnumerable(new[] { new DoubleLabelRow { Label = 1, Features = new float[3] } });
        var ex = Assert.Throws<ArgumentException>(() => mlContext.Regression.Trainers.Kare().Fit(data));
        StringAssert.Contains(ex.Message, "'Label'");
        StringAssert.Contains(ex.Message, "ConvertType");
        Assert.Throws<ArgumentException>(() => mlContext.Regression.Trainers.FastTree().Fit(data), "FastTree refuses it at Fit too");
        Assert.Throws<ArgumentException>(() => mlContext.Regression.Trainers.InfiniteWidthNtk().Fit(data));
        Assert.Throws<ArgumentException>(() => mlContext.Regression.Trainers.MeanFieldTwoTimescale().Fit(data));
    }

    [TestMethod]
    public void EmptyDataIsRejectedAsEmpty()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView data = mlContext.Data.LoadFromEnumerable(Array.Empty<GoodRow>());
        var ex = Assert.Throws<InvalidOperationException>(() => mlContext.Regression.Trainers.Kare().Fit(data));
        StringAssert.Contains(ex.Message, "The training data has no rows");
        Assert.DoesNotContain("missing or non-finite", ex.Message);
    }

    [TestMethod]
    public void VariableLengthFeaturesAreRejectedNamingTheColumn()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView data = mlContext.Data.LoadFromEnumerable(new[] { new VariableFeaturesRow { Label = 1, Measurements = new float[3] } });
        var ex = Assert.Throws<ArgumentException>(() => mlContext.Regression.Trainers.Kare(featureColumnName: "Measurements").Fit(data));
        StringAssert.Contains(ex.Message, "'Measurements'");
    }

    /// <summary>
    /// A feature array shorter (or longer) than the column's declared size: ML.NET's view of in-memory rows hands it over
    /// as it is, so the trainer checks the length of every row it reads. Before, a short row trained silently (its
    /// missing values taken from the row before) and failed only at scoring with "wrong length"; a long one crashed with
    /// an IndexOutOfRangeException.
    /// </summary>
    [TestMethod]
    [DataRow(3)]
    [DataRow(5)]
    public void FeatureArrayOfAnotherLengthThanDeclaredIsRejectedNamingTheColumnAndBothLengths(int length)
    {
        var mlContext = new MLContext(seed: 0);
        IDataView data = mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, 20).Select(i => new FourFeaturesRow
        {
            Label = i,
            Inputs = Enumerable.Range(0, i == 1 ? length : 4).Select(j => (float)(i + j)).ToArray(),
        }).ToArray());
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() => mlContext.Regression.Trainers.Kare(featureColumnName: "Inputs", numberOfEpochs: 1).Fit(data));
        TestContext.WriteLine(ex.Message);
        StringAssert.Contains(ex.Message, "feature column 'Inputs'");
        StringAssert.Contains(ex.Message, "declared as a vector of 4 values");
        StringAssert.Contains(ex.Message, $"position 1 (counting from 0) has {length}");
    }

    /// <summary>
    /// An exception thrown while the feature column is read (here by the row object's property, which ML.NET's view of
    /// in-memory rows reads in the column's getter) is reported naming the column and its size, with the cause inside.
    /// </summary>
    [TestMethod]
    public void FailureWhileReadingTheFeaturesNamesTheColumnAndKeepsTheCause()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView data = mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, 20)
            .Select(i => new UnreadableRow { Label = i, Unreadable = i == 7, Measured = new float[] { i, i * i } }).ToArray());
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() => mlContext.Regression.Trainers.Kare(featureColumnName: "Measured", numberOfEpochs: 1).Fit(data));
        TestContext.WriteLine(ex.ToString());
        StringAssert.Contains(ex.Message, "feature column 'Measured' (a vector of 2 values)");
        StringAssert.Contains(ex.Message, "position 7");
        StringAssert.Contains(ex.Message, "unreadable measurement");
        Assert.IsInstanceOfType<FormatException>(ex.InnerException);
    }

    /// <summary>Scoring a feature vector of another length than the model's names both lengths.</summary>
    [TestMethod]
    public void ScoringAFeatureArrayOfAnotherLengthNamesBothLengths()
    {
        var mlContext = new MLContext(seed: 0);
        var good = Enumerable.Range(0, 20).Select(i => new FourFeaturesRow { Label = i, Inputs = new float[] { i, 1, 2, 3 } }).ToArray();
        var model = mlContext.Regression.Trainers.Kare(featureColumnName: "Inputs", numberOfEpochs: 1, hiddenLayerWidths: new[] { 4 })
            .Fit(mlContext.Data.LoadFromEnumerable(good));
        IDataView scored = model.Transform(mlContext.Data.LoadFromEnumerable(new[] { new FourFeaturesRow { Label = 1, Inputs = new float[] { 1, 2, 3 } } }));
        var ex = Assert.Throws<Exception>(() => scored.GetColumn<float>("Score").ToArray());
        string messages = string.Join(" | ", Causes(ex).Select(e => e.Message));
        TestContext.WriteLine(messages);
        StringAssert.Contains(messages, "The feature vector has 3 values, but this KARE model was trained on 4 features.");
    }

    private static System.Collections.Generic.IEnumerable<Exception> Causes(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
            yield return ex;
    }

    [TestMethod]
    public void DoubleFeaturesAreRejectedNamingTheColumn()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView data = mlContext.Data.LoadFromEnumerable(new[] { new DoubleFeaturesRow { Label = 1, Features = new double[3] } });
        var ex = Assert.Throws<ArgumentException>(() => mlContext.Regression.Trainers.Kare().Fit(data));
        StringAssert.Contains(ex.Message, "'Features'");
    }

    [TestMethod]
    public void MissingColumnsAreRejectedNamingThem()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView data = mlContext.Data.LoadFromEnumerable(new[] { new GoodRow { Label = 1, Features = new float[3] } });
        var ex = Assert.Throws<ArgumentException>(() => mlContext.Regression.Trainers.Kare(featureColumnName: "Inputs").Fit(data));
        StringAssert.Contains(ex.Message, "'Inputs'");
        ex = Assert.Throws<ArgumentException>(() => mlContext.Regression.Trainers.Kare(labelColumnName: "Price").Fit(data));
        StringAssert.Contains(ex.Message, "'Price'");
        ex = Assert.Throws<ArgumentException>(() => mlContext.Regression.Trainers.Kare(exampleWeightColumnName: "Importance").Fit(data));
        StringAssert.Contains(ex.Message, "'Importance'");
    }

    [TestMethod]
    public void TextWeightIsRejectedNamingTheColumn()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView data = mlContext.Data.LoadFromEnumerable(new[] { new TextWeightRow { Label = 1, Features = new float[3], Importance = "high" } });
        var ex = Assert.Throws<ArgumentException>(() => mlContext.Regression.Trainers.Kare(exampleWeightColumnName: "Importance").Fit(data));
        StringAssert.Contains(ex.Message, "'Importance'");
    }

    [TestMethod]
    public void NoUsableRowsIsRejectedNamingTheColumns()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView data = mlContext.Data.LoadFromEnumerable(new[]
        {
            new GoodRow { Label = float.NaN, Features = new float[] { 1, 2, 3 } },
            new GoodRow { Label = 2, Features = new float[] { 1, float.NaN, 3 } },
            new GoodRow { Label = 3, Features = new float[] { float.PositiveInfinity, 2, 3 } },
        });
        var ex = Assert.Throws<InvalidOperationException>(() => mlContext.Regression.Trainers.Kare().Fit(data));
        StringAssert.Contains(ex.Message, "No usable training rows");
        StringAssert.Contains(ex.Message, "'Label'");
        StringAssert.Contains(ex.Message, "'Features'");
    }

    private sealed class TextLabelRow
    {
        public string Target { get; set; } = "";
        [VectorType(3)] public float[] Features { get; set; } = Array.Empty<float>();
    }

    private sealed class VectorLabelRow
    {
        [VectorType(2)] public float[] Label { get; set; } = Array.Empty<float>();
        [VectorType(3)] public float[] Features { get; set; } = Array.Empty<float>();
    }

    private sealed class DoubleLabelRow
    {
        public double Label { get; set; }
        [VectorType(3)] public float[] Features { get; set; } = Array.Empty<float>();
    }

    private sealed class VariableFeaturesRow
    {
        public float Label { get; set; }
        public float[] Measurements { get; set; } = Array.Empty<float>();
    }

    private sealed class DoubleFeaturesRow
    {
        public float Label { get; set; }
        [VectorType(3)] public double[] Features { get; set; } = Array.Empty<double>();
    }

    private sealed class FourFeaturesRow
    {
        public float Label { get; set; }
        [VectorType(4)] public float[] Inputs { get; set; } = Array.Empty<float>();
    }

    private sealed class UnreadableRow
    {
        private float[] _measured = Array.Empty<float>();

        public float Label { get; set; }

        [NoColumn] public bool Unreadable { get; set; }

        [VectorType(2)]
        public float[] Measured
        {
            get => Unreadable ? throw new FormatException("unreadable measurement") : _measured;
            set => _measured = value;
        }
    }

    private sealed class GoodRow
    {
        public float Label { get; set; }
        [VectorType(3)] public float[] Features { get; set; } = Array.Empty<float>();
    }

    private sealed class TextWeightRow
    {
        public float Label { get; set; }
        [VectorType(3)] public float[] Features { get; set; } = Array.Empty<float>();
        public string Importance { get; set; } = "";
    }
}
