using System.IO.Compression;
using System.IO;
using System.Linq;
using System;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Trainers;

[TestClass]
public sealed class KareRegressionModelParametersTests
{
    private const int InputCount = 4;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void SaveLoadRoundTripGivesIdenticalScoresAndTypedModel()
    {
        var mlContext = new MLContext(seed: 0);
        KareRegressionModelParameters model = KareTestModels.CreateModel(mlContext, InputCount);
        var transformer = KareTestModels.CreateTransformer(mlContext, model);
        float[][] rows = KareTestModels.RandomRows(50, InputCount, seed: 2);
        float[] before = KareTestModels.Score(mlContext, transformer, rows, InputCount);

        string path = SaveModel(mlContext, transformer);
        var loaded = (RegressionPredictionTransformer<KareRegressionModelParameters>)new MLContext(seed: 5).Model.Load(path, out DataViewSchema inputSchema);
        float[] after = KareTestModels.Score(mlContext, loaded, rows, InputCount);

        CollectionAssert.AreEqual(before, after);
        Assert.IsTrue(before.All(float.IsFinite));
        Assert.AreEqual(InputCount, ((VectorDataViewType)inputSchema[KareTestModels.FeatureColumn].Type).Size);
        Assert.AreEqual(KareTestModels.FeatureColumn, loaded.FeatureColumnName);
        AssertSameModel(model, loaded.Model);
    }

    [TestMethod]
    public void LoadedModelServesThroughPredictionEngine()
    {
        var mlContext = new MLContext(seed: 0);
        KareRegressionModelParameters model = KareTestModels.CreateModel(mlContext, InputCount, activation: KareActivation.Relu);
        var transformer = KareTestModels.CreateTransformer(mlContext, model);
        float[][] rows = KareTestModels.RandomRows(5, InputCount, seed: 3);
        float[] expected = KareTestModels.Score(mlContext, transformer, rows, InputCount);

        string path = SaveModel(mlContext, transformer);
        ITransformer loaded = mlContext.Model.Load(path, out _);
        var engine = mlContext.Model.CreatePredictionEngine<Input, Output>(loaded);
        for (int i = 0; i < rows.Length; i++)
            Assert.AreEqual(expected[i], engine.Predict(new Input { Features = rows[i] }).Score);
    }

    [TestMethod]
    public void SparseFeatureVectorsScoreLikeTheirDenseEquivalents()
    {
        var mlContext = new MLContext(seed: 0);
        var transformer = KareTestModels.CreateTransformer(mlContext, KareTestModels.CreateModel(mlContext, InputCount));
        string[] categories = { "a", "b", "c", "d", "b", "d" };
        IDataView text = mlContext.Data.LoadFromEnumerable(categories.Select(c => new CategoryRow { Category = c }));
        // One-hot encoding gives sparse vectors of size 4 (one slot per category, in order of appearance).
        IDataView sparse = mlContext.Transforms.Categorical.OneHotEncoding(KareTestModels.FeatureColumn, nameof(CategoryRow.Category))
            .Fit(text).Transform(text);
        Assert.AreEqual(InputCount, ((VectorDataViewType)sparse.Schema[KareTestModels.FeatureColumn].Type).Size);
        Assert.IsFalse(sparse.GetColumn<VBuffer<float>>(KareTestModels.FeatureColumn).First().IsDense);

        float[] sparseScores = transformer.Transform(sparse).GetColumn<float>("Score").ToArray();
        float[][] dense = categories.Select(c => Enumerable.Range(0, InputCount).Select(j => "abcd"[j] == c[0] ? 1f : 0f).ToArray()).ToArray();
        CollectionAssert.AreEqual(KareTestModels.Score(mlContext, transformer, dense, InputCount), sparseScores);
    }

    [TestMethod]
    public void ScoreIsTheJacobianVectorProductOfTheNetwork()
    {
        // Independent check of the primal form: f̂(x) = mean + scale·∇θ f(z; θ)ᵀ β, by central differences along β.
        var mlContext = new MLContext(seed: 0);
        var result = KareTestModels.CreateFitResult(3, new[] { 5, 4 }, KareActivation.Tanh, seed: 11);
        var model = new KareRegressionModelParameters(mlContext, result);
        float[][] rows = KareTestModels.RandomRows(10, 3, seed: 4);
        float[] scores = KareTestModels.Score(mlContext, KareTestModels.CreateTransformer(mlContext, model), rows, 3);

        const double step = 1e-5;
        for (int i = 0; i < rows.Length; i++)
        {
            double[] z = rows[i].Select((x, j) => (x - result.FeatureMeans[j]) / result.FeatureScales[j]).ToArray();
            double plus = TanhNetwork(result.Architecture, result.Parameters.Zip(result.PrimalWeights, (t, b) => t + step * b).ToArray(), z);
            double minus = TanhNetwork(result.Architecture, result.Parameters.Zip(result.PrimalWeights, (t, b) => t - step * b).ToArray(), z);
            double expected = result.TargetMeans[0] + result.TargetScales[0] * (plus - minus) / (2 * step);
            Assert.AreEqual(expected, scores[i], 1e-5 * Math.Max(1, Math.Abs(expected)), $"row {i}");
        }
    }

    [TestMethod]
    public void ModelRejectsInconsistentFitResult()
    {
        var mlContext = new MLContext(seed: 0);
        var good = KareTestModels.CreateFitResult(InputCount, new[] { 3 }, KareActivation.Gelu, seed: 1);
        var badScale = KareTestModels.CreateFitResult(InputCount, new[] { 3 }, KareActivation.Gelu, seed: 1);
        badScale.FeatureScales[2] = 0;
        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new KareRegressionModelParameters(mlContext, badScale));
        StringAssert.Contains(ex.Message, "scale of feature 2");

        var shortTheta = new KareFitResult
        {
            Architecture = good.Architecture,
            Parameters = good.Parameters.Take(good.Parameters.Length - 1).ToArray(),
            PrimalWeights = good.PrimalWeights,
            OutputCount = 1,
            FeatureMeans = good.FeatureMeans,
            FeatureScales = good.FeatureScales,
            TargetMeans = good.TargetMeans,
            TargetScales = good.TargetScales,
            RelativeRidge = good.RelativeRidge,
            Ridge = good.Ridge,
            SelectedEpoch = good.SelectedEpoch,
            TrainingCurve = good.TrainingCurve,
        };
        ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new KareRegressionModelParameters(mlContext, shortTheta));
        StringAssert.Contains(ex.Message, "parameters");
    }

    // ----- corrupted model files -----

    [TestMethod]
    public void TruncatedZipFailsWithClearException()
    {
        var mlContext = new MLContext(seed: 0);
        string path = SaveModel(mlContext, KareTestModels.CreateTransformer(mlContext, KareTestModels.CreateModel(mlContext, InputCount)));
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length / 2).ToArray());

        Exception ex = CatchLoadException(mlContext, path);
        TestContext.WriteLine($"{ex.GetType()}: {ex.Message}");
        Assert.IsTrue(ex is InvalidDataException or FormatException or EndOfStreamException, ex.ToString());
    }

    [TestMethod]
    public void WrongParameterCountInStreamIsReported()
    {
        var ex = LoadCorrupted(KareRegressionModelParameters.NetworkParametersStreamName, data => Write(data, 0, 12345L));
        StringAssert.Contains(ex.Message, "NetworkParameters.bin holds 12345 values");
    }

    [TestMethod]
    public void TruncatedWeightStreamIsReported()
    {
        var ex = LoadCorrupted(KareRegressionModelParameters.PrimalWeightsStreamName, data => data.AsSpan(0, data.Length - 8).ToArray());
        StringAssert.Contains(ex.Message, "ends early");
    }

    [TestMethod]
    public void NonFiniteNetworkParameterIsReported()
    {
        // The stream's SHA-256 digest is recomputed, so that the value check (not the digest) catches the NaN.
        var ex = LoadCorrupted(KareRegressionModelParameters.NetworkParametersStreamName, data => ResealVector(Write(data, 8 + 8 * 3, double.NaN)));
        StringAssert.Contains(ex.Message, "network parameter 3 is not finite");
    }

    [TestMethod]
    public void MissingStreamIsReported()
    {
        var mlContext = new MLContext(seed: 0);
        string path = SaveModel(mlContext, KareTestModels.CreateTransformer(mlContext, KareTestModels.CreateModel(mlContext, InputCount)));
        using (ZipArchive zip = ZipFile.Open(path, ZipArchiveMode.Update))
            zip.Entries.Single(e => e.Name == KareRegressionModelParameters.PrimalWeightsStreamName).Delete();
        FormatException ex = FindFormatException(CatchLoadException(mlContext, path));
        StringAssert.Contains(ex.Message, "no stream PrimalWeights.bin");
    }

    [TestMethod]
    [DataRow(0, 0, "number of input features (0)")]
    [DataRow(0, int.MaxValue, "number of input features (2147483647)")]
    [DataRow(0, 1 << 20, "larger than the model file allows")]
    [DataRow(4, -3, "number of hidden layers (-3)")]
    [DataRow(4, 100000, "number of hidden layers (100000)")]
    [DataRow(8, 0, "hidden layer 0 has an invalid width (0)")]
    [DataRow(16, 99, "activation (99) is unknown")]
    public void CorruptedHeaderFieldIsReported(int offset, int value, string expected)
    {
        // Main model stream: ModelHeader (256 bytes), sizeof(float), byte count of the fields, then the fields: d, L,
        // widths (two layers), activation, ...
        var ex = LoadCorruptedMainStream(data => Write(data, FieldsStart + offset, value));
        StringAssert.Contains(ex.Message, expected);
    }

    [TestMethod]
    public void NonPositiveFeatureScaleIsReported()
    {
        // After d, L, two widths and the activation come d feature means, then d feature scales.
        int scales = FieldsStart + 4 * 5 + 8 * InputCount;
        var ex = LoadCorruptedMainStream(data => Write(data, scales + 8, -1.0));
        StringAssert.Contains(ex.Message, "scale of feature 1 (-1)");
    }

    [TestMethod]
    public void HugeTrainingCurveLengthIsReported()
    {
        int curveCount = FieldsStart + 4 * 5 + 16 * InputCount + 8 * 4 + 4;
        var ex = LoadCorruptedMainStream(data => Write(data, curveCount, int.MaxValue));
        StringAssert.Contains(ex.Message, "training curve length (2147483647)");
    }

    private const int HeaderSize = 256;

    /// <summary>Where the KARE fields start in the model entry: header, sizeof(float), their byte count (long).</summary>
    private const int FieldsStart = HeaderSize + 4 + 8;

    /// <summary>
    /// Rewrites the model entry's KARE fields and recomputes their SHA-256 digest (format 0x00010003), so that the
    /// loader's value checks, not the digest, see the corrupted value.
    /// </summary>
    private Exception LoadCorruptedMainStream(Func<byte[], byte[]> rewrite)
    {
        return LoadCorrupted(null, data =>
        {
            // Self-check of the layout the offsets assume: sizeof(float), byte count, d, L = 2.
            Assert.AreEqual(4, BitConverter.ToInt32(data, HeaderSize));
            Assert.AreEqual(InputCount, BitConverter.ToInt32(data, FieldsStart));
            Assert.AreEqual(2, BitConverter.ToInt32(data, FieldsStart + 4));
            int fieldCount = (int)BitConverter.ToInt64(data, HeaderSize + 4);
            data = rewrite(data);
            System.Security.Cryptography.SHA256.HashData(data.AsSpan(FieldsStart, fieldCount), data.AsSpan(FieldsStart + fieldCount, 32));
            return data;
        });
    }

    /// <summary>Recomputes the SHA-256 digest at the end of a vector stream (format 0x00010003).</summary>
    private static byte[] ResealVector(byte[] data)
    {
        System.Security.Cryptography.SHA256.HashData(data.AsSpan(0, data.Length - 32), data.AsSpan(data.Length - 32));
        return data;
    }

    /// <summary>Overwrites the little-endian bytes of <paramref name="value"/> at <paramref name="offset"/>; returns <paramref name="data"/>.</summary>
    private static byte[] Write<T>(byte[] data, int offset, T value) where T : unmanaged
    {
        System.Runtime.InteropServices.MemoryMarshal.Write(data.AsSpan(offset), in value);
        return data;
    }

    /// <summary>Saves a model, rewrites one of its entries (the model stream when <paramref name="streamName"/> is null) and loads it.</summary>
    private Exception LoadCorrupted(string? streamName, Func<byte[], byte[]> rewrite)
    {
        var mlContext = new MLContext(seed: 0);
        string path = SaveModel(mlContext, KareTestModels.CreateTransformer(mlContext, KareTestModels.CreateModel(mlContext, InputCount)));
        using (ZipArchive zip = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            ZipArchiveEntry entry = streamName is null ? FindKareModelEntry(zip) : zip.Entries.Single(e => e.Name == streamName);
            byte[] data;
            using (Stream s = entry.Open())
            using (var memory = new MemoryStream())
            {
                s.CopyTo(memory);
                data = memory.ToArray();
            }
            data = rewrite(data);
            string name = entry.FullName;
            entry.Delete();
            using Stream target = zip.CreateEntry(name).Open();
            target.Write(data);
        }
        return FindFormatException(CatchLoadException(mlContext, path));
    }

    /// <summary>
    /// ML.NET wraps a loader's exception ("Error during class instantiation"); the loader's own FormatException,
    /// which names the problem, is in the chain of inner exceptions.
    /// </summary>
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

    private static ZipArchiveEntry FindKareModelEntry(ZipArchive zip)
    {
        foreach (ZipArchiveEntry entry in zip.Entries.Where(e => e.Name == "Model.key"))
        {
            using Stream s = entry.Open();
            var buffer = new byte[HeaderSize];
            s.ReadExactly(buffer);
            if (System.Text.Encoding.ASCII.GetString(buffer).Contains("KAREREGR"))
                return entry;
        }
        throw new AssertFailedException("The saved model has no KARE model entry.");
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

    private string SaveModel(MLContext mlContext, ITransformer transformer)
    {
        string path = Path.Combine(TestContext.TestRunDirectory ?? Path.GetTempPath(), $"kare-{Guid.NewGuid():N}.zip");
        IDataView schemaSource = KareTestModels.CreateFeatureData(mlContext, Array.Empty<float[]>(), InputCount);
        mlContext.Model.Save(transformer, schemaSource.Schema, path);
        return path;
    }

    private static void AssertSameModel(KareRegressionModelParameters expected, KareRegressionModelParameters actual)
    {
        Assert.AreEqual(expected.Architecture, actual.Architecture);
        CollectionAssert.AreEqual(expected.NetworkParameters.ToArray(), actual.NetworkParameters.ToArray());
        CollectionAssert.AreEqual(expected.PrimalWeights.ToArray(), actual.PrimalWeights.ToArray());
        CollectionAssert.AreEqual(expected.FeatureMeans.ToArray(), actual.FeatureMeans.ToArray());
        CollectionAssert.AreEqual(expected.FeatureScales.ToArray(), actual.FeatureScales.ToArray());
        Assert.AreEqual(expected.LabelMean, actual.LabelMean);
        Assert.AreEqual(expected.LabelScale, actual.LabelScale);
        Assert.AreEqual(expected.RelativeRidge, actual.RelativeRidge);
        Assert.AreEqual(expected.Ridge, actual.Ridge);
        Assert.AreEqual(expected.SelectedEpoch, actual.SelectedEpoch);
        CollectionAssert.AreEqual(expected.TrainingCurve.ToArray(), actual.TrainingCurve.ToArray());
    }

    /// <summary>f(z; θ) of a tanh network in the layout of <see cref="KareNetworkArchitecture"/>.</summary>
    private static double TanhNetwork(KareNetworkArchitecture architecture, double[] theta, double[] z)
    {
        double[] a = z;
        for (int layer = 0; layer < architecture.Depth; layer++)
        {
            int width = architecture.HiddenWidths[layer];
            int inputs = architecture.LayerInputCount(layer);
            long w = architecture.WeightOffset(layer), b = architecture.BiasOffset(layer);
            var next = new double[width];
            for (int r = 0; r < width; r++)
            {
                double h = theta[b + r];
                for (int j = 0; j < inputs; j++)
                    h += theta[w + r * inputs + j] * a[j];
                next[r] = Math.Tanh(h);
            }
            a = next;
        }
        long o = architecture.OutputWeightOffset;
        double f = theta[o + a.Length];
        for (int j = 0; j < a.Length; j++)
            f += theta[o + j] * a[j];
        return f;
    }

    public sealed class CategoryRow
    {
        public string Category { get; set; } = "";
    }

    public sealed class Input
    {
        [VectorType(InputCount)]
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    public sealed class Output
    {
        public float Score { get; set; }
    }
}
