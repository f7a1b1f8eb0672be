using System;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Tests.Trainers;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Reliability;

/// <summary>
/// The multiclass model's softmax temperature, stored after the shared fields, carries a digest of its own (version
/// 0x00010004 on): a damaged temperature fails to load instead of changing every probability silently.
/// </summary>
[TestClass]
public sealed class MulticlassTemperatureIntegrityTests
{
    private const string Signature = "KAREMULT";
    private const int TemperatureBlockBytes = 8 + 8 + ModelZip.DigestSize;

    [TestMethod]
    public void DamagedTemperatureFailsToLoadAndIntactModelLoads()
    {
        var mlContext = new MLContext(seed: 1);
        byte[] saved = SaveSmallModel(mlContext);
        byte[] entry = ModelZip.ReadEntries(saved).Single(e => ModelZip.IsModelEntry(e.Name, e.Data, Signature)).Data;
        Assert.AreEqual(KarePrimalModel.InputRangeVersion, ModelZip.VersionWritten(entry));
        Assert.IsNotNull(ReliabilityFixtures.LoadFromBytes(mlContext, saved));

        // Each byte of the temperature's block: its length, the double, and the digest.
        for (int offset = 0; offset < TemperatureBlockBytes; offset++)
        {
            byte[] damaged = ModelZip.RewriteKareModelEntry(saved, Signature, e => ModelZip.RewriteModelBlock(e, block =>
            {
                byte[] copy = (byte[])block.Clone();
                copy[copy.Length - TemperatureBlockBytes + offset] ^= 0x10;
                return copy;
            }));
            Exception ex = Assert.ThrowsExactly<InvalidOperationException>(() => ReliabilityFixtures.LoadFromBytes(mlContext, damaged), $"byte {offset}");
            Exception named = LoadOutcome.Named(ex);
            Assert.IsInstanceOfType<FormatException>(named, $"byte {offset}: {ex}");
            StringAssert.Contains(named.Message, "The KARE model file", $"byte {offset}");
        }
    }

    [TestMethod]
    public void TemperatureWithoutDigestStillLoads()
    {
        var mlContext = new MLContext(seed: 1);
        byte[] saved = SaveSmallModel(mlContext);
        // Rewrite into the 0x00010003 layout: no network count, compression scales (8·d bytes), normal score count or input
        // range flag in the shared fields, the bare double after them.
        byte[] old = ModelZip.RewriteKareModelEntry(saved, Signature, e =>
        {
            byte[] result = ModelZip.RewriteModelBlock(e, block =>
            {
                int start = block.Length - TemperatureBlockBytes;
                byte[] temperature = block.Skip(start + 8).Take(8).ToArray();
                byte[] shared = block.Take(start).ToArray();
                byte[] fields = ModelZip.Fields(shared);
                return ModelZip.WithFields(shared, fields.AsSpan(0, fields.Length - 4 - 8 * BitConverter.ToInt32(fields, 0) - 4 - 4).ToArray()).Concat(temperature).ToArray();
            });
            ModelZip.SetVersions(result, 0x00010003, 0x00010003);
            return result;
        });
        var rows = MulticlassClassificationTests.BlobRow.Generate(20, seed: 5).ToArray();
        float[][] expected = Scores(mlContext, ReliabilityFixtures.LoadFromBytes(mlContext, saved), rows);
        float[][] actual = Scores(mlContext, ReliabilityFixtures.LoadFromBytes(mlContext, old), rows);
        for (int i = 0; i < rows.Length; i++)
            CollectionAssert.AreEqual(expected[i], actual[i], $"row {i}");
    }

    private static byte[] SaveSmallModel(MLContext mlContext)
    {
        IDataView train = mlContext.Data.LoadFromEnumerable(MulticlassClassificationTests.BlobRow.Generate(60, seed: 1));
        var model = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(MulticlassClassificationTests.BlobRow.Species))
            .Append(mlContext.MulticlassClassification.Trainers.Kare(OneNetwork(MulticlassClassificationTests.FastOptions())))
            .Fit(train);
        return ReliabilityFixtures.SaveToBytes<MulticlassClassificationTests.BlobRow>(mlContext, model);
    }

    /// <summary>One network (a hold-out), no normal scores and no input range, so that the file can be rewritten into the older one-network layout.</summary>
    private static KareMulticlassTrainer.Options OneNetwork(KareMulticlassTrainer.Options options)
    {
        options.RidgeSelection = KareRidgeSelection.HoldOut;
        options.AppendNormalScores = false;
        options.ClipInputsToTrainingRange = false;
        return options;
    }

    private static float[][] Scores(MLContext mlContext, ITransformer model, MulticlassClassificationTests.BlobRow[] rows)
        => model.Transform(mlContext.Data.LoadFromEnumerable(rows)).GetColumn<float[]>("Score").ToArray();
}
