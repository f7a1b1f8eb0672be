using System;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>Schema errors surface at Fit (before any training) and name the offending column.</summary>
[TestClass]
public sealed class KareRegressionTrainerSchemaTests
{
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
