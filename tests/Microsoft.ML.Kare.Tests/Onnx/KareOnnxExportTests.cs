using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using DiabetesRegression;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Examples;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Onnx;

/// <summary>
/// Pipelines that end in a KARE trainer export with ML.NET's ONNX converter, and ONNX Runtime scores held-out rows as
/// ML.NET does: regression (Score, with and without the interval bounds), binary (Score, Probability, PredictedLabel)
/// and multiclass (Score, PredictedLabel); fold ensembles and single networks; every activation; depth 2; the methods
/// that add the network's own output; a featurizer in front. Also the infinite-width NTK and the mean-field network.
/// </summary>
/// <remarks>
/// Tolerance. The managed scorer computes in float64 and rounds the score to float32; the exported graph computes in
/// float32 throughout (θ, β and the standardisations rounded to float32, float32 matrix products and activations), so
/// each term carries relative rounding of about 1e-7 and the tangent ∇θf(z)ᵀβ sums P of them that partly cancel.
/// Measured here: at most 2e-6 of the label scale for the KARE and mean-field networks (most cases 1e-7–5e-7), and up
/// to 2e-5 for the infinite-width NTK, whose prediction sums n kernel values, each from float32 arc-cosine or arcsine
/// recursions, against dual weights that cancel. The tests allow 1e-4 of the scale, room for
/// other processors' kernels and larger networks, still far below any error of the graph itself (a wrong weight, sign
/// or layout moves scores by O(1)): <see cref="ScoreTolerance"/> of the label scale for scores (the model's unit), and
/// <see cref="ProbabilityTolerance"/> absolute for probabilities and softmax scores, which lie in [0, 1]. Each test
/// prints the largest difference it measured. A predicted label may differ only where the two best scores are closer
/// than the tolerance.
/// </remarks>
[TestClass]
public sealed class KareOnnxExportTests
{
    /// <summary>Largest difference of a score allowed, relative to the model's label scale.</summary>
    private const double ScoreTolerance = 1e-4;

    /// <summary>Largest difference of a probability or softmax score allowed.</summary>
    private const double ProbabilityTolerance = 1e-4;

    private const int FeatureCount = 4;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void OnnxRuntimeScoresAnExportedSdcaPipelineAsMlNet()
    {
        // The converter and the runtime's native library work here at all, before any KARE model is involved.
        var mlContext = new MLContext(seed: 0);
        var model = mlContext.Regression.Trainers.Sdca(maximumNumberOfIterations: 20)
            .Fit(mlContext.Data.LoadFromEnumerable(RegressionRow.Generate(200, seed: 1)));
        AssertOnnxScoresAsMlNet(mlContext, model, "Score", ScoreTolerance); // labels of standard deviation about 1.2
    }

    /// <summary>
    /// The default regression model (a fold ensemble of 5 networks with 90% intervals) behind Concatenate and
    /// NormalizeMeanVariance: Score, LowerBound and UpperBound.
    /// </summary>
    [TestMethod]
    public void RegressionWithIntervalsBehindAFeaturizerExports()
    {
        var mlContext = new MLContext(seed: 0);
        var pipeline = mlContext.Transforms.Concatenate("Features", ColumnsRow.FeatureNames)
            .Append(mlContext.Transforms.NormalizeMeanVariance("Features"))
            .Append(mlContext.Regression.Trainers.Kare(Options(KareActivation.Gelu, 16)));
        var model = pipeline.Fit(mlContext.Data.LoadFromEnumerable(ColumnsRow.Generate(200, seed: 1)));
        KareRegressionModelParameters parameters = model.LastTransformer.Model;
        Assert.AreEqual(5, parameters.NetworkCount, "200 rows: the default is the ensemble of 5 fold networks");
        Assert.IsNotNull(parameters.PredictionInterval);

        ColumnsInput[] heldOut = ColumnsRow.Generate(300, seed: 2).Select(r => r.Input()).ToArray();
        IDataView input = mlContext.Data.LoadFromEnumerable(heldOut);
        byte[] onnx = OnnxTestSupport.Export(mlContext, model, input);
        CollectionAssert.AreEquivalent(ColumnsRow.FeatureNames, OnnxTestSupport.InputNames(onnx).ToArray());
        var onnxOutputs = OnnxTestSupport.Score(onnx, heldOut.Length, ColumnsRow.FeatureNames
            .Select(name => (name, heldOut.Select(r => r.Value(name)).ToArray(), 1)).ToArray());

        IDataView scored = model.Transform(input);
        double tolerance = ScoreTolerance * parameters.LabelScale;
        foreach (string column in new[] { "Score", "LowerBound", "UpperBound" })
            AssertClose(column, MlNetColumn(scored, column), onnxOutputs[column + ".output"], tolerance);
    }

    [TestMethod]
    public void RegressionWithoutIntervalsExportsTheScoreAlone()
    {
        var mlContext = new MLContext(seed: 0);
        KareRegressionTrainer.Options options = Options(KareActivation.Gelu, 16);
        options.PredictionIntervalCoverage = 0;
        var model = mlContext.Regression.Trainers.Kare(options).Fit(mlContext.Data.LoadFromEnumerable(RegressionRow.Generate(150, seed: 1)));
        Assert.IsNull(model.Model.PredictionInterval);
        AssertOnnxScoresAsMlNet(mlContext, model, "Score", ScoreTolerance * model.Model.LabelScale);
        AssertOnnxScoresAsMlNet(mlContext, model, "LowerBound", 0); // neither ML.NET nor the graph has bounds
    }

    /// <summary>
    /// Each activation at depth 2 (fold ensembles); one network chosen on a hold-out (calibration-split intervals); and the
    /// methods that add the (linearised) network's own output to ∇θf(z)ᵀβ (β is zero for the plain network).
    /// </summary>
    [TestMethod]
    [DataRow(KareActivation.Gelu, 2, KareRidgeSelection.Automatic, KareMethod.Kare)]
    [DataRow(KareActivation.Relu, 2, KareRidgeSelection.Automatic, KareMethod.Kare)]
    [DataRow(KareActivation.Tanh, 2, KareRidgeSelection.Automatic, KareMethod.Kare)]
    [DataRow(KareActivation.Gelu, 1, KareRidgeSelection.HoldOut, KareMethod.Kare)]
    [DataRow(KareActivation.Tanh, 1, KareRidgeSelection.HoldOut, KareMethod.NeuralNetwork)]
    [DataRow(KareActivation.Relu, 2, KareRidgeSelection.HoldOut, KareMethod.IterativeLinearizationNetwork)]
    public void RegressionNetworksExport(KareActivation activation, int depth, KareRidgeSelection selection, KareMethod method)
    {
        var mlContext = new MLContext(seed: 0);
        KareRegressionTrainer.Options options = Options(activation, Enumerable.Repeat(16, depth).ToArray());
        options.RidgeSelection = selection;
        options.Method = method;
        var model = mlContext.Regression.Trainers.Kare(options).Fit(mlContext.Data.LoadFromEnumerable(RegressionRow.Generate(200, seed: 1)));
        Assert.AreEqual(selection == KareRidgeSelection.Automatic ? 5 : 1, model.Model.NetworkCount);

        double tolerance = ScoreTolerance * model.Model.LabelScale;
        foreach (string column in new[] { "Score", "LowerBound", "UpperBound" })
            AssertOnnxScoresAsMlNet(mlContext, model, column, tolerance);
    }

    /// <summary>
    /// A heavy-tailed feature (log-normal, compressed before standardisation) and one that is not: the graph's compression
    /// matches the managed scorer's, also for rows outside the training range (negative, far in the tail).
    /// </summary>
    [TestMethod]
    public void RegressionWithACompressedFeatureExports()
    {
        var mlContext = new MLContext(seed: 0);
        RegressionRow[] train = RegressionRow.Generate(200, seed: 1).Select(SkewFirstFeature).ToArray();
        var model = mlContext.Regression.Trainers.Kare(Options(KareActivation.Gelu, 16)).Fit(mlContext.Data.LoadFromEnumerable(train));
        double[] compression = model.Model.FeatureCompressionScales.ToArray();
        Assert.IsGreaterThan(0, compression[0], "the log-normal feature is compressed");
        Assert.IsTrue(compression.Skip(1).All(s => s == 0), "the uniform features are not");

        FeaturesInput[] heldOut = RegressionRow.Generate(300, seed: 9).Select(SkewFirstFeature)
            .Select((r, i) => new FeaturesInput { Features = i % 10 == 0 ? new[] { -r.Features[0] * 100, r.Features[1], r.Features[2], r.Features[3] } : r.Features })
            .ToArray();
        IDataView input = mlContext.Data.LoadFromEnumerable(heldOut);
        var onnxOutputs = OnnxTestSupport.Score(OnnxTestSupport.Export(mlContext, model, input), heldOut.Length,
            ("Features", OnnxTestSupport.Flatten(heldOut.Select(r => r.Features)), FeatureCount));
        AssertClose("Score", MlNetColumn(model.Transform(input), "Score"), onnxOutputs["Score.output"], ScoreTolerance * model.Model.LabelScale);
    }

    /// <summary>
    /// Normal scores appended to the features (a skewed feature and uniform ones, all scored): the graph's piecewise-linear
    /// maps match the managed scorer's, for rows between knots, on them and beyond the training range on both sides.
    /// </summary>
    [TestMethod]
    public void RegressionWithNormalScoresExports()
    {
        var mlContext = new MLContext(seed: 0);
        RegressionRow[] train = RegressionRow.Generate(200, seed: 1).Select(SkewFirstFeature).ToArray();
        KareRegressionTrainer.Options options = Options(KareActivation.Gelu, 16);
        options.AppendNormalScores = true;
        var model = mlContext.Regression.Trainers.Kare(options).Fit(mlContext.Data.LoadFromEnumerable(train));
        Assert.IsNotEmpty(model.Model.NormalScoreColumns);

        FeaturesInput[] heldOut = RegressionRow.Generate(300, seed: 9).Select(SkewFirstFeature)
            .Select((r, i) => new FeaturesInput
            {
                Features = i % 10 == 0 ? r.Features.Select(v => v * 50).ToArray()
                    : i % 10 == 1 ? r.Features.Select(v => -Math.Abs(v) * 50).ToArray()
                    : i % 10 == 2 ? train[i % train.Length].Features
                    : r.Features,
            })
            .ToArray();
        IDataView input = mlContext.Data.LoadFromEnumerable(heldOut);
        var onnxOutputs = OnnxTestSupport.Score(OnnxTestSupport.Export(mlContext, model, input), heldOut.Length,
            ("Features", OnnxTestSupport.Flatten(heldOut.Select(r => r.Features)), FeatureCount));
        AssertClose("Score", MlNetColumn(model.Transform(input), "Score"), onnxOutputs["Score.output"], ScoreTolerance * model.Model.LabelScale);
    }

    /// <summary>
    /// Inputs clipped to the training range (the default): rows far beyond it on either side score in the graph as in the
    /// managed scorer, and a row with a NaN or infinite feature scores NaN in both.
    /// </summary>
    [TestMethod]
    public void ClippedAndNonFiniteInputsScoreAsMlNet()
    {
        var mlContext = new MLContext(seed: 0);
        var model = mlContext.Regression.Trainers.Kare(Options(KareActivation.Gelu, 16)).Fit(mlContext.Data.LoadFromEnumerable(RegressionRow.Generate(200, seed: 1)));
        Assert.IsNotEmpty(model.Model.InputUpperBounds, "the default clips");
        float[] nonFinite = { float.NaN, float.PositiveInfinity, float.NegativeInfinity };
        FeaturesInput[] rows = RegressionRow.Generate(60, seed: 9)
            .Select((r, i) => new FeaturesInput
            {
                Features = i % 6 == 0 ? r.Features.Select(v => v * 1000).ToArray()
                    : i % 6 == 1 ? r.Features.Select((v, j) => j == i % FeatureCount ? nonFinite[i % 3] : v).ToArray()
                    : r.Features,
            })
            .ToArray();
        IDataView input = mlContext.Data.LoadFromEnumerable(rows);
        float[] expected = MlNetColumn(model.Transform(input), "Score");
        float[] actual = OnnxTestSupport.Score(OnnxTestSupport.Export(mlContext, model, input), rows.Length,
            ("Features", OnnxTestSupport.Flatten(rows.Select(r => r.Features)), FeatureCount))["Score.output"];
        for (int i = 0; i < rows.Length; i++)
        {
            if (i % 6 == 1)
            {
                Assert.IsTrue(float.IsNaN(expected[i]) && float.IsNaN(actual[i]), $"row {i}: ML.NET {expected[i]}, ONNX {actual[i]}");
                continue;
            }
            Assert.AreEqual(expected[i], actual[i], ScoreTolerance * model.Model.LabelScale, $"row {i}");
        }
    }

    /// <summary>The row with its first feature mapped to 10·exp(5x₀): heavy-tailed, skewness about 4.</summary>
    private static RegressionRow SkewFirstFeature(RegressionRow row)
    {
        float[] features = (float[])row.Features.Clone();
        features[0] = (float)(10 * Math.Exp(5 * features[0]));
        return new RegressionRow { Label = row.Label, Features = features };
    }

    /// <summary>Binary classification behind Concatenate and NormalizeMeanVariance: Score, the Platt calibrator's Probability, PredictedLabel.</summary>
    [TestMethod]
    public void BinaryClassificationBehindAFeaturizerExports()
    {
        var mlContext = new MLContext(seed: 0);
        var pipeline = mlContext.Transforms.Concatenate("Features", ColumnsRow.FeatureNames)
            .Append(mlContext.Transforms.NormalizeMeanVariance("Features"))
            .Append(mlContext.BinaryClassification.Trainers.Kare(new KareBinaryTrainer.Options
            {
                HiddenLayerWidths = new[] { 16, 16 },
                Activation = KareActivation.Relu,
                NumberOfEpochs = 4,
                Seed = 5, // cross-validation keeps a trained epoch: the model is the five-network ensemble
            }));
        ColumnsRow[] train = ColumnsRow.Generate(200, seed: 4);
        foreach (ColumnsRow row in train)
            row.IsPositive = row.Label > 0;
        var model = pipeline.Fit(mlContext.Data.LoadFromEnumerable(train.Select(r => r.Binary())));
        Assert.AreEqual(5, model.LastTransformer.Model.SubModel.NetworkCount);

        ColumnsInput[] heldOut = ColumnsRow.Generate(300, seed: 5).Select(r => r.Input()).ToArray();
        IDataView input = mlContext.Data.LoadFromEnumerable(heldOut);
        var onnxOutputs = OnnxTestSupport.Score(OnnxTestSupport.Export(mlContext, model, input), heldOut.Length,
            ColumnsRow.FeatureNames.Select(name => (name, heldOut.Select(r => r.Value(name)).ToArray(), 1)).ToArray());
        IDataView scored = model.Transform(input);

        float[] score = MlNetColumn(scored, "Score");
        AssertClose("Score", score, onnxOutputs["Score.output"], ScoreTolerance); // in the unit of the ±1 targets
        AssertClose("Probability", MlNetColumn(scored, "Probability"), onnxOutputs["Probability.output"], ProbabilityTolerance);
        float[] label = MlNetColumn(scored, "PredictedLabel"), onnxLabel = onnxOutputs["PredictedLabel.output"];
        int differing = Enumerable.Range(0, label.Length).Count(i => label[i] != onnxLabel[i] && Math.Abs(score[i]) > ScoreTolerance);
        Assert.AreEqual(0, differing, "predicted labels differ away from the threshold");
        Assert.IsTrue(label.Contains(0f) && label.Contains(1f), "both classes are predicted");
    }

    /// <summary>Multiclass classification (3 classes, fold ensemble): the softmax Score vector and PredictedLabel.</summary>
    [TestMethod]
    public void MulticlassClassificationExports()
    {
        var mlContext = new MLContext(seed: 0);
        var toKey = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(ClassRow.Class));
        IDataView train = mlContext.Data.LoadFromEnumerable(ClassRow.Generate(240, seed: 6));
        IDataView keyed = toKey.Fit(train).Transform(train);
        var model = mlContext.Transforms.NormalizeMeanVariance("Features")
            .Append(mlContext.MulticlassClassification.Trainers.Kare(new KareMulticlassTrainer.Options
            {
                HiddenLayerWidths = new[] { 16 },
                Activation = KareActivation.Tanh,
                NumberOfEpochs = 4,
                Seed = 3,
            }))
            .Fit(keyed);
        KareMulticlassModelParameters parameters = model.LastTransformer.Model;
        Assert.AreEqual(5, parameters.NetworkCount);
        Assert.AreEqual(3, parameters.ClassCount);

        FeaturesInput[] heldOut = ClassRow.Generate(300, seed: 7).Select(r => new FeaturesInput { Features = r.Features }).ToArray();
        IDataView input = mlContext.Data.LoadFromEnumerable(heldOut);
        var onnxOutputs = OnnxTestSupport.Score(OnnxTestSupport.Export(mlContext, model, input), heldOut.Length,
            ("Features", OnnxTestSupport.Flatten(heldOut.Select(r => r.Features)), FeatureCount));
        IDataView scored = model.Transform(input);

        float[] score = MlNetColumn(scored, "Score");
        AssertClose("Score", score, onnxOutputs["Score.output"], ProbabilityTolerance);
        float[] label = MlNetColumn(scored, "PredictedLabel"), onnxLabel = onnxOutputs["PredictedLabel.output"];
        for (int i = 0; i < label.Length; i++)
        {
            if (label[i] == onnxLabel[i])
                continue;
            float[] row = score.AsSpan(i * 3, 3).ToArray();
            float best = row.Max(), second = row.OrderByDescending(v => v).ElementAt(1);
            Assert.IsLessThan(ProbabilityTolerance, best - second, $"row {i}: labels {label[i]} and {onnxLabel[i]} for scores {string.Join(", ", row)}");
        }
        Assert.AreEqual(3, label.Distinct().Count(), "every class is predicted");
    }

    /// <summary>
    /// The infinite-width NTK: the graph holds the 200 training rows and computes the kernel recursion (ReLU's
    /// arc-cosine and erf's arcsine closed forms) at depth 2 with intervals, and at depth 1 without.
    /// </summary>
    [TestMethod]
    [DataRow(InfiniteWidthActivation.Relu, 2, 0.9)]
    [DataRow(InfiniteWidthActivation.Erf, 2, 0.9)]
    [DataRow(InfiniteWidthActivation.Relu, 1, 0.0)]
    public void InfiniteWidthNtkExports(InfiniteWidthActivation activation, int hiddenLayers, double coverage)
    {
        var mlContext = new MLContext(seed: 0);
        var model = mlContext.Regression.Trainers.InfiniteWidthNtk(new InfiniteWidthNtkRegressionTrainer.Options
        {
            Activation = activation,
            NumberOfHiddenLayers = hiddenLayers,
            PredictionIntervalCoverage = coverage,
        }).Fit(mlContext.Data.LoadFromEnumerable(RegressionRow.Generate(200, seed: 1)));
        Assert.AreEqual(coverage > 0, model.Model.PredictionInterval is not null);

        double tolerance = ScoreTolerance * model.Model.LabelScale;
        foreach (string column in new[] { "Score", "LowerBound", "UpperBound" })
            AssertOnnxScoresAsMlNet(mlContext, model, column, tolerance);
    }

    /// <summary>The mean-field two-layer network with each activation.</summary>
    [TestMethod]
    [DataRow(KareActivation.Gelu)]
    [DataRow(KareActivation.Relu)]
    [DataRow(KareActivation.Tanh)]
    public void MeanFieldNetworkExports(KareActivation activation)
    {
        var mlContext = new MLContext(seed: 0);
        var model = mlContext.Regression.Trainers.MeanFieldTwoTimescale(new MeanFieldRegressionTrainer.Options
        {
            NumberOfParticles = 64,
            NumberOfSteps = 20,
            Activation = activation,
            Seed = 3,
        }).Fit(mlContext.Data.LoadFromEnumerable(RegressionRow.Generate(200, seed: 1)));
        AssertOnnxScoresAsMlNet(mlContext, model, "Score", ScoreTolerance * model.Model.LabelScale);
    }

    /// <summary>
    /// The diabetes example's MLModel.onnx (DiabetesModel.SaveOnnx): its default pipeline with one-hot encoding,
    /// Concatenate and NormalizeMeanVariance in front, the label left out of the inputs.
    /// </summary>
    [TestMethod]
    public void DiabetesExampleWritesAnOnnxModelThatScoresAsMlNet()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView data = DiabetesModel.LoadData(mlContext, ExamplePaths.DataFile("diabetes.csv"));
        DataOperationsCatalog.TrainTestData split = mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: 0);
        var model = DiabetesModel.Train(mlContext, split.TrainSet);
        string path = Path.Combine(Path.GetTempPath(), $"kare-diabetes-{Guid.NewGuid():N}.onnx");
        byte[] onnx;
        try
        {
            DiabetesModel.SaveOnnx(mlContext, model, path);
            onnx = File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }

        string[] featureColumns = ["age", "sex", .. DiabetesModel.NumericColumns.Skip(1)];
        CollectionAssert.AreEquivalent(featureColumns, OnnxTestSupport.InputNames(onnx).ToArray(), "the feature columns, without the label");
        IDataView scored = model.Transform(split.TestSet);
        int rows = scored.GetColumn<float>("Score").Count();
        var onnxOutputs = OnnxTestSupport.Score(onnx, rows,
            featureColumns.Select(name => (name, split.TestSet.GetColumn<float>(name).ToArray(), 1)).ToArray());
        double tolerance = ScoreTolerance * model.LastTransformer.Model.LabelScale;
        foreach (string column in new[] { "Score", "LowerBound", "UpperBound" })
            AssertClose(column, MlNetColumn(scored, column), onnxOutputs[column + ".output"], tolerance);
    }

    [TestMethod]
    public void TheScoringLibraryDoesNotReferenceTheConverterOrTheRuntime()
    {
        static string[] References(Type type) => type.Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToArray();
        string[] forbidden = { "Microsoft.ML.OnnxConverter", "Microsoft.ML.OnnxRuntime", "Google.Protobuf" };
        foreach (Type type in new[] { typeof(KareRegressionModelParameters), typeof(KareRegressionTrainer) })
        {
            string[] references = References(type);
            CollectionAssert.Contains(references, "Microsoft.ML.Data", $"{type.Assembly.GetName().Name}: the check reads its references");
            foreach (string name in forbidden)
                CollectionAssert.DoesNotContain(references, name, $"{type.Assembly.GetName().Name} references {name}");
        }
        // The same check sees the converter where it is referenced: this test assembly calls it.
        CollectionAssert.Contains(References(typeof(KareOnnxExportTests)), "Microsoft.ML.OnnxConverter");
    }

    /// <summary>
    /// Small fast fits whose kept epoch is past 0: at epoch 0 the fold networks are the one initial network and the
    /// model keeps one, so the step is 5 (the default 20 leaves the depth-2 tanh network at epoch 0 here).
    /// </summary>
    private static KareRegressionTrainer.Options Options(KareActivation activation, params int[] widths) => new()
    {
        HiddenLayerWidths = widths,
        Activation = activation,
        NumberOfEpochs = 4,
        LearningRate = 5,
        Seed = 3,
    };

    /// <summary>
    /// Exports a model trained on <see cref="RegressionRow"/>s, scores 300 held-out feature vectors in ML.NET and ONNX
    /// Runtime, and checks <paramref name="column"/>; returns the largest difference.
    /// </summary>
    private double AssertOnnxScoresAsMlNet(MLContext mlContext, ITransformer model, string column, double tolerance)
    {
        FeaturesInput[] heldOut = RegressionRow.Generate(300, seed: 9).Select(r => new FeaturesInput { Features = r.Features }).ToArray();
        IDataView input = mlContext.Data.LoadFromEnumerable(heldOut);
        byte[] onnx = OnnxTestSupport.Export(mlContext, model, input);
        var onnxOutputs = OnnxTestSupport.Score(onnx, heldOut.Length, ("Features", OnnxTestSupport.Flatten(heldOut.Select(r => r.Features)), FeatureCount));
        IDataView scored = model.Transform(input);
        if (scored.Schema.GetColumnOrNull(column) is null)
        {
            Assert.IsFalse(onnxOutputs.ContainsKey(column + ".output"), $"{column} is exported but not scored by ML.NET");
            return 0;
        }
        return AssertClose(column, MlNetColumn(scored, column), onnxOutputs[column + ".output"], tolerance);
    }

    private double AssertClose(string column, float[] expected, float[] actual, double tolerance)
    {
        double largest = OnnxTestSupport.LargestDifference(expected, actual);
        double scale = expected.Max(v => Math.Abs(v));
        TestContext.WriteLine($"{column}: largest |ML.NET − ONNX| = {largest:G3} over {expected.Length} values (largest |value| {scale:G3}; allowed {tolerance:G3})");
        Assert.IsLessThanOrEqualTo(tolerance, largest, $"{column}: ONNX Runtime's values differ from ML.NET's by up to {largest:G3}");
        return largest;
    }

    /// <summary>A scored column as floats (vectors flattened row by row, keys and Booleans as numbers).</summary>
    private static float[] MlNetColumn(IDataView scored, string column)
    {
        DataViewType type = scored.Schema[column].Type;
        return type switch
        {
            VectorDataViewType => scored.GetColumn<VBuffer<float>>(column).SelectMany(v => v.DenseValues()).ToArray(),
            KeyDataViewType => scored.GetColumn<uint>(column).Select(v => (float)v).ToArray(),
            BooleanDataViewType => scored.GetColumn<bool>(column).Select(v => v ? 1f : 0f).ToArray(),
            _ => scored.GetColumn<float>(column).ToArray(),
        };
    }

    /// <summary>y = sin(2x₀) + x₁·x₂ + 0.5·x₃ + 0.3·ε, x ~ U(−1.5, 1.5)⁴.</summary>
    public sealed class RegressionRow
    {
        public float Label { get; set; }

        [VectorType(FeatureCount)]
        public float[] Features { get; set; } = Array.Empty<float>();

        public static RegressionRow[] Generate(int count, int seed)
        {
            var random = new Random(seed);
            return Enumerable.Range(0, count).Select(_ =>
            {
                float[] x = Enumerable.Range(0, FeatureCount).Select(_ => (float)(3 * random.NextDouble() - 1.5)).ToArray();
                double noise = StandardNormal.Draw(random);
                return new RegressionRow { Label = (float)(Math.Sin(2 * x[0]) + x[1] * x[2] + 0.5 * x[3] + 0.3 * noise), Features = x };
            }).ToArray();
        }
    }

    /// <summary>The rows an application scores: features only.</summary>
    public sealed class FeaturesInput
    {
        [VectorType(FeatureCount)]
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    /// <summary>Features in separate columns on different scales (for a featurizer to concatenate and normalise).</summary>
    public sealed class ColumnsRow
    {
        public static readonly string[] FeatureNames = { nameof(Age), nameof(Income), nameof(Rooms), nameof(Distance) };

        public float Age { get; set; }
        public float Income { get; set; }
        public float Rooms { get; set; }
        public float Distance { get; set; }
        public float Label { get; set; }
        public bool IsPositive { get; set; }

        public static ColumnsRow[] Generate(int count, int seed) => RegressionRow.Generate(count, seed).Select(r => new ColumnsRow
        {
            Age = 40 + 10 * r.Features[0],
            Income = 50_000 + 20_000 * r.Features[1],
            Rooms = 4 + r.Features[2],
            Distance = 0.01f * r.Features[3],
            Label = r.Label,
        }).ToArray();

        public ColumnsInput Input() => new() { Age = Age, Income = Income, Rooms = Rooms, Distance = Distance };

        public BinaryRow Binary() => new() { Age = Age, Income = Income, Rooms = Rooms, Distance = Distance, Label = IsPositive };
    }

    public sealed class ColumnsInput
    {
        public float Age { get; set; }
        public float Income { get; set; }
        public float Rooms { get; set; }
        public float Distance { get; set; }

        public float Value(string name) => name switch
        {
            nameof(Age) => Age,
            nameof(Income) => Income,
            nameof(Rooms) => Rooms,
            nameof(Distance) => Distance,
            _ => throw new ArgumentException(name),
        };
    }

    public sealed class BinaryRow
    {
        public float Age { get; set; }
        public float Income { get; set; }
        public float Rooms { get; set; }
        public float Distance { get; set; }
        public bool Label { get; set; }
    }

    /// <summary>Three Gaussian blobs in 4 dimensions, overlapping a little.</summary>
    public sealed class ClassRow
    {
        public string Class { get; set; } = "";

        [VectorType(FeatureCount)]
        public float[] Features { get; set; } = Array.Empty<float>();

        public static ClassRow[] Generate(int count, int seed)
        {
            var random = new Random(seed);
            return Enumerable.Range(0, count).Select(i =>
            {
                int k = i % 3;
                float[] x = Enumerable.Range(0, FeatureCount).Select(j =>
                    (float)((j == k ? 2.0 : 0.0) + StandardNormal.Draw(random))).ToArray();
                return new ClassRow { Class = "class" + k, Features = x };
            }).ToArray();
        }
    }
}
