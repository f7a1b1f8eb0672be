using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO.Compression;
using System.IO;
using System.Linq;
using System;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Kernels;
using Microsoft.ML.Kare.Solvers;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>
/// The infinite-width NTK trainer: GCV's choice against brute force, the pipeline (Concatenate, Fit, Evaluate,
/// save/load), example weights, finite training times, and clear errors for bad columns, options and model files.
/// </summary>
[TestClass]
public sealed class InfiniteWidthNtkTrainerTests
{
    private const int HeaderSize = 256;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void GcvChoiceAndWeightsEqualBruteForceDirectSolves(bool weighted)
    {
        var random = new Random(weighted ? 2 : 1);
        const int n = 60, d = 3;
        Matrix<double> x = Dense.Gaussian(n, d, random);
        double[] y = Enumerable.Range(0, n).Select(i => Math.Sin(2 * x[i, 0]) + 0.5 * x[i, 1] + 0.5 * StandardNormal.Draw(random)).ToArray();
        double[]? weights = weighted ? Enumerable.Range(0, n).Select(_ => 0.3 + 1.4 * random.NextDouble()).ToArray() : null;
        if (weights is not null)
        {
            double mean = weights.Average();
            weights = weights.Select(w => w / mean).ToArray();
        }
        var kernel = new InfiniteWidthNtk(InfiniteWidthActivation.Relu, 2, Math.Sqrt(2), 0.1);
        InfiniteWidthNtk.PreparedRows rows = kernel.Prepare(x.ToRowMajorArray(), n, d);
        double[] theta = kernel.Ntk(rows, rows);
        double[] grid = Dense.LogSpace(1e-6, 10, 15);

        var solution = InfiniteWidthKernelRegression.Solve(theta, y, weights, n, double.PositiveInfinity, 1.0, grid, static () => { });

        // Brute force: for every λ̃, the weighted kernel S Θ S and targets S y, then ρ by explicit inversion.
        Matrix<double> s = Matrix<double>.Build.DiagonalOfDiagonalArray(weights?.Select(Math.Sqrt).ToArray() ?? Enumerable.Repeat(1.0, n).ToArray());
        Matrix<double> k = s * Matrix<double>.Build.Dense(n, n, theta).Transpose() * s;
        Matrix<double> targets = s * Matrix<double>.Build.Dense(n, 1, y);
        double[] rho = grid.Select(z => Reference.RhoRelative(k, targets, z)).ToArray();
        int best = Dense.ArgMin(rho);
        TestContext.WriteLine($"GCV over the grid: {string.Join(", ", rho.Select(r => r.ToString("G4")))}; chosen λ̃ = {solution.RelativeRidge:G3}");
        Assert.IsTrue(best > 0 && best < grid.Length - 1, $"Precondition: an interior minimum, got index {best}.");
        Assert.AreEqual(grid[best], solution.RelativeRidge, "λ̃ chosen by GCV vs brute force over the grid");
        Assert.AreEqual(rho[best], solution.GeneralizedCrossValidation, 1e-9 * rho[best]);
        double ridge = Reference.Ridge(k, grid[best]);
        Assert.AreEqual(ridge, solution.Ridge, 1e-12 * ridge);

        Matrix<double> direct = s * (k + n * ridge * Matrix<double>.Build.DenseIdentity(n)).Solve(targets);
        Dense.AssertWithin(Dense.RelativeError(direct.Column(0).ToArray(), solution.DualWeights), 1e-9, $"α vs direct solve, weighted={weighted}", TestContext);
    }

    [TestMethod]
    [DataRow(InfiniteWidthActivation.Relu, 1)]
    [DataRow(InfiniteWidthActivation.Erf, 3)]
    public void PipelineTrainsEvaluatesAndRoundTripsThroughSaveAndLoad(InfiniteWidthActivation activation, int depth)
    {
        var mlContext = new MLContext(seed: 1);
        var messages = new ConcurrentQueue<string>();
        mlContext.Log += (_, e) => messages.Enqueue(e.Message);
        IDataView train = mlContext.Data.LoadFromEnumerable(ColumnRow.Generate(300, seed: 1));
        IDataView test = mlContext.Data.LoadFromEnumerable(ColumnRow.Generate(200, seed: 2));
        var pipeline = mlContext.Transforms.Concatenate("Features", nameof(ColumnRow.X1), nameof(ColumnRow.X2), nameof(ColumnRow.X3), nameof(ColumnRow.X4))
            .Append(mlContext.Regression.Trainers.InfiniteWidthNtk(labelColumnName: nameof(ColumnRow.Y), activation: activation, numberOfHiddenLayers: depth));

        var model = pipeline.Fit(train);
        InfiniteWidthNtkModelParameters parameters = model.LastTransformer.Model;
        RegressionMetrics metrics = mlContext.Regression.Evaluate(model.Transform(test), labelColumnName: nameof(ColumnRow.Y));
        TestContext.WriteLine($"{activation}, depth {depth}: test R² = {metrics.RSquared:F4}, RMSE = {metrics.RootMeanSquaredError:F4}, λ̃ = {parameters.RelativeRidge:G3}");
        Assert.IsGreaterThan(0.8, metrics.RSquared, "a smooth function of 4 features is learnable");
        Assert.AreEqual(300, parameters.TrainingRowCount);
        Assert.AreEqual(4, parameters.FeatureCount);
        Assert.AreEqual(activation, parameters.Activation);
        Assert.AreEqual(depth, parameters.NumberOfHiddenLayers);
        Assert.IsTrue(double.IsPositiveInfinity(parameters.TrainingTime));
        Assert.IsGreaterThan(0.0, parameters.RelativeRidge);
        string log = string.Join(Environment.NewLine, messages);
        StringAssert.Contains(log, "kernel ridge regression (t = ∞) on 300 rows");
        StringAssert.Contains(log, "chosen by GCV =");

        string path = Path.Combine(TestContext.TestRunDirectory ?? Path.GetTempPath(), $"iwntk-{Guid.NewGuid():N}.zip");
        mlContext.Model.Save(model, train.Schema, path);
        var loaded = (TransformerChain<ITransformer>)new MLContext(seed: 7).Model.Load(path, out _);
        var loadedNtk = (RegressionPredictionTransformer<InfiniteWidthNtkModelParameters>)loaded.LastTransformer;
        float[] before = model.Transform(test).GetColumn<float>("Score").ToArray();
        float[] after = loaded.Transform(test).GetColumn<float>("Score").ToArray();
        CollectionAssert.AreEqual(before, after, "scores after save and load");
        CollectionAssert.AreEqual(parameters.DualWeights.ToArray(), loadedNtk.Model.DualWeights.ToArray());
        CollectionAssert.AreEqual(parameters.TrainingInputs.ToArray(), loadedNtk.Model.TrainingInputs.ToArray());
        Assert.AreEqual(parameters.RelativeRidge, loadedNtk.Model.RelativeRidge);
        Assert.AreEqual(parameters.WeightStandardDeviation, loadedNtk.Model.WeightStandardDeviation);
    }

    [TestMethod]
    public void FiniteTrainingTimeFitsMoreAsTimeGrowsAndRoundTrips()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView train = mlContext.Data.LoadFromEnumerable(VectorRow.Generate(150, seed: 3));
        double previous = double.PositiveInfinity;
        ITransformer? last = null;
        foreach (double time in new[] { 0.1, 3.0, 100.0 })
        {
            var options = new InfiniteWidthNtkRegressionTrainer.Options { TrainingTime = time, LearningRate = 0.5 };
            var model = mlContext.Regression.Trainers.InfiniteWidthNtk(options).Fit(train);
            double mse = mlContext.Regression.Evaluate(model.Transform(train)).MeanSquaredError;
            TestContext.WriteLine($"t = {time}: training MSE {mse:G4}");
            Assert.IsLessThan(previous, mse, "gradient flow lowers the training error as time grows");
            Assert.AreEqual(0.0, model.Model.RelativeRidge);
            Assert.AreEqual(time, model.Model.TrainingTime);
            previous = mse;
            last = model;
        }

        ITransformer transformer = last!;
        string path = Path.Combine(TestContext.TestRunDirectory ?? Path.GetTempPath(), $"iwntk-{Guid.NewGuid():N}.zip");
        mlContext.Model.Save(transformer, train.Schema, path);
        ITransformer loaded = mlContext.Model.Load(path, out _);
        CollectionAssert.AreEqual(transformer.Transform(train).GetColumn<float>("Score").ToArray(), loaded.Transform(train).GetColumn<float>("Score").ToArray());
    }

    [TestMethod]
    public void IntegerWeightsEqualDuplicatedRowsAtFiniteTime()
    {
        // With loss (1/2n)Σ w_i(f_i − y_i)² and w scaled to mean 1, weights proportional to row counts give the same
        // gradient flow (and the same weighted standardisation) as repeating the rows.
        var mlContext = new MLContext(seed: 1);
        VectorRow[] rows = VectorRow.Generate(60, seed: 4).ToArray();
        var weighted = rows.Select((r, i) => new WeightedRow { Label = r.Label, Features = r.Features, Weight = i % 3 == 0 ? 2 : 1 }).ToArray();
        var duplicated = rows.SelectMany((r, i) => Enumerable.Repeat(r, i % 3 == 0 ? 2 : 1)).ToArray();
        var options = new InfiniteWidthNtkRegressionTrainer.Options { TrainingTime = 20, ExampleWeightColumnName = nameof(WeightedRow.Weight) };
        var fromWeights = mlContext.Regression.Trainers.InfiniteWidthNtk(options).Fit(mlContext.Data.LoadFromEnumerable(weighted));
        options.ExampleWeightColumnName = null;
        var fromDuplicates = mlContext.Regression.Trainers.InfiniteWidthNtk(options).Fit(mlContext.Data.LoadFromEnumerable(duplicated));

        IDataView probe = mlContext.Data.LoadFromEnumerable(VectorRow.Generate(20, seed: 5));
        float[] a = fromWeights.Transform(probe).GetColumn<float>("Score").ToArray();
        float[] b = fromDuplicates.Transform(probe).GetColumn<float>("Score").ToArray();
        Dense.AssertWithin(Dense.RelativeError(b.Select(v => (double)v).ToArray(), a.Select(v => (double)v).ToArray()), 1e-5, "weights 2 vs duplicated rows", TestContext);
    }

    [TestMethod]
    public void MissingFeatureScoresNaNAndSkippedRowsAreLogged()
    {
        var mlContext = new MLContext(seed: 1);
        var messages = new ConcurrentQueue<string>();
        mlContext.Log += (_, e) => messages.Enqueue(e.Message);
        var rows = VectorRow.Generate(80, seed: 6).ToList();
        rows.Add(new VectorRow { Label = float.NaN, Features = new float[VectorRow.Size] });
        rows.Add(new VectorRow { Label = 1, Features = new[] { 1f, float.NaN, 0, 0 } });
        var model = mlContext.Regression.Trainers.InfiniteWidthNtk().Fit(mlContext.Data.LoadFromEnumerable(rows));
        Assert.AreEqual(80, model.Model.TrainingRowCount);
        Assert.IsTrue(messages.Any(m => m.Contains("Skipped 2 of 82 training rows")), string.Join(Environment.NewLine, messages));

        var engine = mlContext.Model.CreatePredictionEngine<VectorRow, ScoreRow>(model);
        Assert.IsTrue(float.IsNaN(engine.Predict(new VectorRow { Features = new[] { 0f, float.NaN, 0, 0 } }).Score));
        Assert.IsTrue(float.IsFinite(engine.Predict(new VectorRow { Features = new[] { 0f, 0.5f, 0, 0 } }).Score));
    }

    [TestMethod]
    public void WrongOrMissingLabelColumnIsRejectedNamingIt()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView data = mlContext.Data.LoadFromEnumerable(VectorRow.Generate(10, seed: 7));
        var ex = Assert.Throws<ArgumentException>(() => mlContext.Regression.Trainers.InfiniteWidthNtk(labelColumnName: "Price").Fit(data));
        StringAssert.Contains(ex.Message, "'Price'");
        ex = Assert.Throws<ArgumentException>(() => mlContext.Regression.Trainers.InfiniteWidthNtk(featureColumnName: "Inputs").Fit(data));
        StringAssert.Contains(ex.Message, "'Inputs'");

        IDataView text = mlContext.Data.LoadFromEnumerable(new[] { new TextLabelRow { Target = "a", Features = new float[VectorRow.Size] } });
        ex = Assert.Throws<ArgumentException>(() => mlContext.Regression.Trainers.InfiniteWidthNtk(labelColumnName: "Target").Fit(text));
        StringAssert.Contains(ex.Message, "'Target'");
        StringAssert.Contains(ex.Message, "expected Single");
    }

    [TestMethod]
    public void TooManyRowsFailNamingTheOption()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView data = mlContext.Data.LoadFromEnumerable(VectorRow.Generate(60, seed: 8));
        var options = new InfiniteWidthNtkRegressionTrainer.Options { MaximumTrainingRows = 50 };
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Regression.Trainers.InfiniteWidthNtk(options).Fit(data));
        TestContext.WriteLine(ex.Message);
        StringAssert.Contains(ex.Message, "60 usable training rows exceed MaximumTrainingRows (50)");
    }

    [TestMethod]
    [DataRow(nameof(InfiniteWidthNtkRegressionTrainer.Options.NumberOfHiddenLayers))]
    [DataRow(nameof(InfiniteWidthNtkRegressionTrainer.Options.WeightStandardDeviation))]
    [DataRow(nameof(InfiniteWidthNtkRegressionTrainer.Options.BiasStandardDeviation))]
    [DataRow(nameof(InfiniteWidthNtkRegressionTrainer.Options.TrainingTime))]
    [DataRow(nameof(InfiniteWidthNtkRegressionTrainer.Options.LearningRate))]
    [DataRow(nameof(InfiniteWidthNtkRegressionTrainer.Options.RidgeGrid))]
    [DataRow(nameof(InfiniteWidthNtkRegressionTrainer.Options.MaximumTrainingRows))]
    [DataRow(nameof(InfiniteWidthNtkRegressionTrainer.Options.Activation))]
    public void InvalidOptionIsRejectedNamingIt(string option)
    {
        var options = new InfiniteWidthNtkRegressionTrainer.Options();
        switch (option)
        {
            case nameof(options.NumberOfHiddenLayers): options.NumberOfHiddenLayers = -1; break;
            case nameof(options.WeightStandardDeviation): options.WeightStandardDeviation = 0; break;
            case nameof(options.BiasStandardDeviation): options.BiasStandardDeviation = double.NaN; break;
            case nameof(options.TrainingTime): options.TrainingTime = double.NaN; break;
            case nameof(options.LearningRate): options.LearningRate = double.PositiveInfinity; break;
            case nameof(options.RidgeGrid): options.RidgeGrid = Array.Empty<double>(); break;
            case nameof(options.MaximumTrainingRows): options.MaximumTrainingRows = 50000; break;
            case nameof(options.Activation): options.Activation = (InfiniteWidthActivation)5; break;
        }
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext(seed: 0).Regression.Trainers.InfiniteWidthNtk(options));
        StringAssert.Contains(ex.Message, option);
    }

    [TestMethod]
    public void OptionsAreCopied()
    {
        var mlContext = new MLContext(seed: 0);
        var options = new InfiniteWidthNtkRegressionTrainer.Options { TrainingTime = 5 };
        var trainer = mlContext.Regression.Trainers.InfiniteWidthNtk(options);
        options.TrainingTime = double.PositiveInfinity;
        options.RidgeGrid[0] = -1;
        var model = trainer.Fit(mlContext.Data.LoadFromEnumerable(VectorRow.Generate(30, seed: 9)));
        Assert.AreEqual(5.0, model.Model.TrainingTime);
    }

    [TestMethod]
    public void ZeroCoverageLeavesTheScoreAlone()
    {
        // The trainer's copy of the options once dropped the coverage, so 0 still gave 90% intervals.
        var mlContext = new MLContext(seed: 0);
        IDataView data = mlContext.Data.LoadFromEnumerable(VectorRow.Generate(30, seed: 9));
        var model = mlContext.Regression.Trainers.InfiniteWidthNtk(new InfiniteWidthNtkRegressionTrainer.Options { PredictionIntervalCoverage = 0 }).Fit(data);
        Assert.IsNull(model.Model.PredictionInterval);
        Assert.IsNull(model.Transform(data).Schema.GetColumnOrNull(KarePredictionInterval.LowerBoundColumnName));
        var withIntervals = mlContext.Regression.Trainers.InfiniteWidthNtk(new InfiniteWidthNtkRegressionTrainer.Options { PredictionIntervalCoverage = 0.8 }).Fit(data);
        Assert.AreEqual(0.8, withIntervals.Model.PredictionInterval!.Coverage);
    }

    // ----- corrupted model files -----

    [TestMethod]
    [DataRow(0, 0, "number of input features (0)")]
    [DataRow(0, 1 << 22, "larger than the model file allows")]
    [DataRow(4, -2, "number of training rows (-2)")]
    [DataRow(8, 99, "activation (99) is unknown")]
    [DataRow(12, 5000, "number of hidden layers (5000)")]
    public void CorruptedHeaderFieldIsReported(int offset, int value, string expected)
    {
        // Main stream: ModelHeader (256 bytes), sizeof(float), d, n, activation, L, σ_w, β, ...
        FormatException ex = LoadCorrupted(null, data => Write(data, HeaderSize + 4 + offset, value));
        StringAssert.Contains(ex.Message, expected);
    }

    [TestMethod]
    public void NegativeWeightStandardDeviationIsReported()
    {
        FormatException ex = LoadCorrupted(null, data => Write(data, HeaderSize + 4 + 16, -1.0));
        StringAssert.Contains(ex.Message, "weight standard deviation (-1) is not a positive finite number");
    }

    [TestMethod]
    public void NonFiniteDualWeightIsReported()
    {
        FormatException ex = LoadCorrupted(InfiniteWidthNtkModelParameters.DualWeightsStreamName, data => Write(data, 8 + 8 * 3, double.NaN));
        StringAssert.Contains(ex.Message, "dual weight 3 is not finite");
    }

    [TestMethod]
    public void TruncatedOrMiscountedStreamsAreReported()
    {
        FormatException ex = LoadCorrupted(InfiniteWidthNtkModelParameters.DualWeightsStreamName, data => data.AsSpan(0, data.Length - 8).ToArray());
        StringAssert.Contains(ex.Message, "ends early");
        ex = LoadCorrupted(InfiniteWidthNtkModelParameters.TrainingInputsStreamName, data => Write(data, 0, 7L));
        StringAssert.Contains(ex.Message, "TrainingInputs.bin holds 7 values");
    }

    [TestMethod]
    public void MissingStreamIsReported()
    {
        var mlContext = new MLContext(seed: 0);
        string path = SaveSmallModel(mlContext);
        using (ZipArchive zip = ZipFile.Open(path, ZipArchiveMode.Update))
            zip.Entries.Single(e => e.Name == InfiniteWidthNtkModelParameters.TrainingInputsStreamName).Delete();
        StringAssert.Contains(FindFormatException(CatchLoadException(mlContext, path)).Message, "no stream TrainingInputs.bin");
    }

    /// <summary>Trains a small model on 12 rows of 4 features and saves the transformer alone.</summary>
    private string SaveSmallModel(MLContext mlContext)
    {
        IDataView data = mlContext.Data.LoadFromEnumerable(VectorRow.Generate(12, seed: 10));
        var model = mlContext.Regression.Trainers.InfiniteWidthNtk(numberOfHiddenLayers: 2).Fit(data);
        string path = Path.Combine(TestContext.TestRunDirectory ?? Path.GetTempPath(), $"iwntk-{Guid.NewGuid():N}.zip");
        mlContext.Model.Save(model, data.Schema, path);
        return path;
    }

    /// <summary>
    /// Saves a model, rewrites it in the initial layout (0x00010001: no digests, which a damaged value would otherwise trip
    /// first; that layout is still read), rewrites one of its entries (the model stream when <paramref name="streamName"/>
    /// is null) and loads it, so that the value checks themselves are tested.
    /// </summary>
    private FormatException LoadCorrupted(string? streamName, Func<byte[], byte[]> rewrite)
    {
        var mlContext = new MLContext(seed: 0);
        string path = SaveSmallModel(mlContext);
        File.WriteAllBytes(path, DowngradeToInitialLayout(File.ReadAllBytes(path)));
        using (ZipArchive zip = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            ZipArchiveEntry entry = streamName is null ? FindModelEntry(zip) : zip.Entries.Single(e => e.Name == streamName);
            byte[] data;
            using (Stream s = entry.Open())
            using (var memory = new MemoryStream())
            {
                s.CopyTo(memory);
                data = memory.ToArray();
            }
            if (streamName is null)
            {
                // Self-check of the layout the offsets assume: sizeof(float), d = 4, n = 12, activation, L = 2.
                Assert.AreEqual(4, BitConverter.ToInt32(data, HeaderSize));
                Assert.AreEqual(VectorRow.Size, BitConverter.ToInt32(data, HeaderSize + 4));
                Assert.AreEqual(12, BitConverter.ToInt32(data, HeaderSize + 8));
                Assert.AreEqual(2, BitConverter.ToInt32(data, HeaderSize + 16));
            }
            data = rewrite(data);
            string name = entry.FullName;
            entry.Delete();
            using Stream target = zip.CreateEntry(name).Open();
            target.Write(data);
        }
        return FindFormatException(CatchLoadException(mlContext, path));
    }

    private static byte[] DowngradeToInitialLayout(byte[] zip)
    {
        const uint InitialVersion = 0x00010001;
        zip = Reliability.ModelZip.RewriteKareModelEntry(zip, "IWNTKREG", entry =>
        {
            byte[] result = Reliability.ModelZip.RewriteModelBlock(entry, block =>
            {
                byte[] fields = Reliability.ModelZip.Fields(block);
                byte[] rest = block.Skip(12 + fields.Length + Reliability.ModelZip.DigestSize).ToArray();
                return block.Take(4).Concat(fields).Concat(rest).ToArray();
            });
            Reliability.ModelZip.SetVersions(result, InitialVersion, InitialVersion);
            return result;
        });
        foreach (string stream in new[] { InfiniteWidthNtkModelParameters.TrainingInputsStreamName, InfiniteWidthNtkModelParameters.DualWeightsStreamName })
            zip = Reliability.ModelZip.RewriteStream(zip, stream, data => data.AsSpan(0, data.Length - Reliability.ModelZip.DigestSize).ToArray());
        return zip;
    }

    private static ZipArchiveEntry FindModelEntry(ZipArchive zip)
    {
        foreach (ZipArchiveEntry entry in zip.Entries.Where(e => e.Name == "Model.key"))
        {
            using Stream s = entry.Open();
            var buffer = new byte[HeaderSize];
            s.ReadExactly(buffer);
            if (System.Text.Encoding.ASCII.GetString(buffer).Contains("IWNTKREG"))
                return entry;
        }
        throw new AssertFailedException("The saved model has no infinite-width NTK model entry.");
    }

    /// <summary>ML.NET wraps a loader's exception; the loader's own FormatException, which names the problem, is in the chain.</summary>
    private FormatException FindFormatException(Exception ex)
    {
        TestContext.WriteLine(ex.ToString());
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is FormatException format)
                return format;
        }
        throw new AssertFailedException($"Expected a FormatException in the chain, got {ex}");
    }

    private static Exception CatchLoadException(MLContext mlContext, string path)
    {
        try
        {
            mlContext.Model.Load(path, out _);
        }
        catch (Exception ex)
        {
            return ex;
        }
        throw new AssertFailedException("Loading the corrupted model did not fail.");
    }

    private static byte[] Write<T>(byte[] data, int offset, T value) where T : unmanaged
    {
        System.Runtime.InteropServices.MemoryMarshal.Write(data.AsSpan(offset), in value);
        return data;
    }


    public sealed class ColumnRow
    {
        public float X1 { get; set; }
        public float X2 { get; set; }
        public float X3 { get; set; }
        public float X4 { get; set; }
        public float Y { get; set; }

        public static IEnumerable<ColumnRow> Generate(int count, int seed)
        {
            var random = new Random(seed);
            for (int i = 0; i < count; i++)
            {
                var x = Enumerable.Range(0, 4).Select(_ => (float)(4 * random.NextDouble() - 2)).ToArray();
                double y = 10 + 3 * Math.Sin(x[0]) + x[1] * x[2] + 0.5 * x[3] + 0.1 * StandardNormal.Draw(random);
                yield return new ColumnRow { X1 = x[0], X2 = 100 * x[1], X3 = x[2], X4 = x[3], Y = (float)y };
            }
        }
    }

    public sealed class VectorRow
    {
        public const int Size = 4;

        public float Label { get; set; }

        [VectorType(Size)]
        public float[] Features { get; set; } = Array.Empty<float>();

        public static IEnumerable<VectorRow> Generate(int count, int seed)
        {
            var random = new Random(seed);
            for (int i = 0; i < count; i++)
            {
                float[] x = Enumerable.Range(0, Size).Select(_ => (float)(2 * random.NextDouble() - 1)).ToArray();
                double y = 3 * Math.Sin(2 * x[0]) + 0.5 * x[1] + 0.2 * x[2] * x[3];
                yield return new VectorRow { Label = (float)y, Features = x };
            }
        }
    }

    public sealed class WeightedRow
    {
        public float Label { get; set; }

        [VectorType(VectorRow.Size)]
        public float[] Features { get; set; } = Array.Empty<float>();

        public float Weight { get; set; }
    }

    public sealed class TextLabelRow
    {
        public string Target { get; set; } = "";

        [VectorType(VectorRow.Size)]
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    public sealed class ScoreRow
    {
        public float Score { get; set; }
    }
}
