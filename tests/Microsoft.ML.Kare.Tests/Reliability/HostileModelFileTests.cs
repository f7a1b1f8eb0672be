using System.Collections.Generic;
using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Tests.Trainers;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Reliability;

/// <summary>
/// Damaged model files: flipped bytes in every KARE stream and in the zip itself, wrong version numbers, absurd sizes,
/// truncations. Load must fail with a <see cref="FormatException"/> (or the zip layer's <see cref="InvalidDataException"/>)
/// whose message names the problem, and never allocate more than the file justifies. Older layouts still load.
/// </summary>
[TestClass]
public sealed class HostileModelFileTests
{
    private const string Signature = "KAREREGR";
    private const int InputCount = 4;

    /// <summary>Managed bytes one load of a corrupted model may allocate (a good load of this model allocates about 1 MB).</summary>
    private const long AllocationBound = 32L << 20;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void DotNetZipDoesNotVerifyCrcButTheKareDigestCatchesAFlippedThetaByte()
    {
        // A byte flipped in the raw zip, inside the stored (uncompressed) deflate block of θ: the zip entry's CRC-32 no
        // longer matches. Measured on .NET 10: ZipArchive reads the entry to its end without complaint, and ML.NET's
        // loader does not check the CRC either, so before format 0x00010003 this loaded as a model with one different θ.
        var (mlContext, _, bytes) = SavedModel();
        var (offset, length) = RawEntryData(bytes, KarePrimalModel.NetworkParametersStreamName);
        byte[] corrupted = (byte[])bytes.Clone();
        corrupted[offset + length / 2] ^= 0x10;

        bool zipNoticed = ZipLayerRejects(corrupted, KarePrimalModel.NetworkParametersStreamName);
        TestContext.WriteLine($"ZipArchive noticed the CRC mismatch on a full read: {zipNoticed}");
        Exception ex = CatchLoad(mlContext, corrupted);
        Exception named = Named(ex);
        if (!zipNoticed)
        {
            Assert.IsInstanceOfType<FormatException>(named, ex.ToString());
            StringAssert.Contains(named.Message, "The KARE model file is corrupted");
            StringAssert.Contains(named.Message, KarePrimalModel.NetworkParametersStreamName);
        }
    }

    [TestMethod]
    [DataRow(KarePrimalModel.NetworkParametersStreamName, 8 + 8 * 5)]
    [DataRow(KarePrimalModel.NetworkParametersStreamName, 8 + 8 * 20 + 7)]
    [DataRow(KarePrimalModel.PrimalWeightsStreamName, 8)]
    [DataRow(KarePrimalModel.PrimalWeightsStreamName, 8 + 8 * 33 + 3)]
    public void FlippedBitInsideThetaOrBetaIsReportedAsCorrupted(string stream, int offset)
    {
        // Rewritten through ZipArchive, so the entry's CRC is valid: only the KARE digest can tell.
        var (mlContext, _, bytes) = SavedModel();
        byte[] corrupted = ModelZip.RewriteStream(bytes, stream, data => Flip(data, offset, 0x01));
        Exception named = Named(CatchLoad(mlContext, corrupted));
        Assert.IsInstanceOfType<FormatException>(named);
        StringAssert.Contains(named.Message, "The KARE model file is corrupted");
        StringAssert.Contains(named.Message, stream);
    }

    [TestMethod]
    public void FlippedBitInTheDigestItselfIsReportedAsCorrupted()
    {
        var (mlContext, _, bytes) = SavedModel();
        byte[] corrupted = ModelZip.RewriteStream(bytes, KarePrimalModel.PrimalWeightsStreamName, data => Flip(data, data.Length - 1, 0x80));
        StringAssert.Contains(Named(CatchLoad(mlContext, corrupted)).Message, "The KARE model file is corrupted");
    }

    [TestMethod]
    public void FlippedBitInEveryFieldOfTheMainStreamIsReported()
    {
        // Every byte of the KARE fields (from d through the method) and of their digest, one at a time.
        var (mlContext, _, bytes) = SavedModel();
        byte[] entry = ModelZip.ReadEntries(bytes).Single(e => ModelZip.IsModelEntry(e.Name, e.Data, Signature)).Data;
        int fieldsLength = (int)BitConverter.ToInt64(entry, ModelZip.HeaderSize + 4);
        int start = ModelZip.HeaderSize + 12;
        int checkedBytes = 0;
        for (int i = start; i < start + fieldsLength + ModelZip.DigestSize; i++)
        {
            int at = i;
            byte[] corrupted = ModelZip.RewriteKareModelEntry(bytes, Signature, data => Flip(data, at, (byte)(1 << (at % 8))));
            Exception named = Named(CatchLoad(mlContext, corrupted));
            Assert.IsInstanceOfType<FormatException>(named, $"byte {at - start}");
            StringAssert.Contains(named.Message, "The KARE model file is corrupted", $"byte {at - start}");
            checkedBytes++;
        }
        TestContext.WriteLine($"{checkedBytes} bytes of fields and digest checked.");
        Assert.IsGreaterThan(100, checkedBytes);
    }

    [TestMethod]
    [DataRow(0x0001000Au, 0x0001000Au, "too new")]
    [DataRow(0x7FFFFFFFu, 0x7FFFFFFFu, "too new")]
    [DataRow(0x00010000u, 0x00010000u, "too old")]
    [DataRow(0x00010002u, 0x00010003u, "Corrupt file header")]
    public void WrongVersionNumbersAreReported(uint written, uint readable, string expected)
    {
        // (A larger written version with a readable version of 0x00010009 or less loads: by ML.NET's versioning contract
        // it is a newer file that this reader can still read.)
        var (mlContext, _, bytes) = SavedModel();
        byte[] corrupted = ModelZip.RewriteKareModelEntry(bytes, Signature, data =>
        {
            ModelZip.SetVersions(data, written, readable);
            return data;
        });
        Exception named = Named(CatchLoad(mlContext, corrupted));
        Assert.IsInstanceOfType<FormatException>(named);
        StringAssert.Contains(named.Message, expected);
    }

    [TestMethod]
    [DataRow(0x00010001u)]
    [DataRow(0x00010002u)]
    public void AVersion3FileLabelledAsAnOlderVersionFailsClearly(uint version)
    {
        // Versions 1 and 2 have no byte count: the loader reads the count's bytes as d and L and must not get far.
        var (mlContext, _, bytes) = SavedModel();
        byte[] corrupted = ModelZip.RewriteKareModelEntry(bytes, Signature, data =>
        {
            ModelZip.SetVersions(data, version, version);
            return data;
        });
        Exception named = Named(CatchLoad(mlContext, corrupted));
        TestContext.WriteLine(named.Message);
        Assert.IsInstanceOfType<FormatException>(named);
    }

    [TestMethod]
    [DataRow(8, int.MaxValue, "hidden layer 0 has an invalid width (2147483647)")]
    [DataRow(12, 1 << 24, "the network needs")]
    [DataRow(0, -1, "number of input features (-1)")]
    [DataRow(4, -7, "number of hidden layers (-7)")]
    [DataRow(4, int.MaxValue, "number of hidden layers (2147483647)")]
    [DataRow(-1, int.MaxValue, "training curve length (2147483647)")]
    [DataRow(-1, -5, "training curve length (-5)")]
    [DataRow(-1, 1 << 26, "training curve length (67108864)")]
    public void AbsurdSizesInTheFieldsAreReportedWithoutLargeAllocations(int offset, int value, string expected)
    {
        // The digest is recomputed so that the size checks themselves are tested. Offsets are within the fields (d at 0,
        // L at 4, widths at 8 and 12); -1 is the training curve length.
        var (mlContext, _, bytes) = SavedModel();
        byte[] corrupted = ModelZip.RewriteKareModelEntry(bytes, Signature, entry => ModelZip.RewriteModelBlock(entry, block =>
        {
            byte[] fields = ModelZip.Fields(block);
            int at = offset >= 0 ? offset : CurveLengthOffset(fields);
            BitConverter.TryWriteBytes(fields.AsSpan(at), value);
            return ModelZip.WithFields(block, fields);
        }));
        var (ex, allocated) = CatchLoadMeasured(mlContext, corrupted);
        Exception named = Named(ex);
        TestContext.WriteLine($"{named.Message} ({allocated / 1024} KB allocated)");
        Assert.IsInstanceOfType<FormatException>(named);
        StringAssert.Contains(named.Message, expected);
        Assert.IsLessThan(AllocationBound, allocated);
    }

    /// <summary>
    /// The input range block at the end of the fields (digest recomputed, so the checks themselves are tested): a valid
    /// range loads and clips; a flag other than 0 or 1, an upper bound below its lower bound and a NaN bound fail naming it.
    /// </summary>
    [TestMethod]
    public void AnInvalidInputRangeIsReported()
    {
        var (mlContext, _, bytes) = SavedModel();
        byte[] WithRange(int flag, double lower, double upper) => ModelZip.RewriteKareModelEntry(bytes, Signature, entry => ModelZip.RewriteModelBlock(entry, block =>
        {
            byte[] fields = ModelZip.Fields(block);
            Assert.AreEqual(0, BitConverter.ToInt32(fields, fields.Length - 4), "layout self-check: the hand-made model clips nothing");
            IEnumerable<byte> bounds = Enumerable.Repeat(lower, InputCount).Concat(Enumerable.Repeat(upper, InputCount)).SelectMany(BitConverter.GetBytes);
            return ModelZip.WithFields(block, fields.Take(fields.Length - 4).Concat(BitConverter.GetBytes(flag)).Concat(flag == 1 ? bounds : []).ToArray());
        }));

        var loaded = (RegressionPredictionTransformer<KareRegressionModelParameters>)ReliabilityFixtures.LoadFromBytes(mlContext, WithRange(1, -1, 1));
        CollectionAssert.AreEqual(Enumerable.Repeat(1.0, InputCount).ToArray(), loaded.Model.InputUpperBounds.ToArray());
        foreach (var (flag, lower, upper, expected) in new[] { (2, -1.0, 1.0, "input range flag (2)"), (1, 1.0, -1.0, "training range of input 0"), (1, double.NaN, 1.0, "training range of input 0") })
        {
            Exception named = Named(CatchLoad(mlContext, WithRange(flag, lower, upper)));
            Assert.IsInstanceOfType<FormatException>(named, expected);
            StringAssert.Contains(named.Message, expected);
        }
    }

    [TestMethod]
    [DataRow(long.MaxValue)]
    [DataRow(-1L)]
    [DataRow(1L << 40)]
    public void AbsurdVectorLengthIsReportedWithoutLargeAllocations(long count)
    {
        var (mlContext, _, bytes) = SavedModel();
        byte[] corrupted = ModelZip.RewriteStream(bytes, KarePrimalModel.PrimalWeightsStreamName, data =>
        {
            BitConverter.TryWriteBytes(data.AsSpan(0), count);
            return ModelZip.ResealVector(data);
        });
        var (ex, allocated) = CatchLoadMeasured(mlContext, corrupted);
        Exception named = Named(ex);
        Assert.IsInstanceOfType<FormatException>(named);
        StringAssert.Contains(named.Message, $"PrimalWeights.bin holds {count} values");
        Assert.IsLessThan(AllocationBound, allocated);
    }

    [TestMethod]
    public void AbsurdFieldByteCountIsReportedWithoutLargeAllocations()
    {
        var (mlContext, _, bytes) = SavedModel();
        byte[] corrupted = ModelZip.RewriteKareModelEntry(bytes, Signature, entry =>
        {
            BitConverter.TryWriteBytes(entry.AsSpan(ModelZip.HeaderSize + 4), (long)int.MaxValue);
            return entry;
        });
        var (ex, allocated) = CatchLoadMeasured(mlContext, corrupted);
        Exception named = Named(ex);
        Assert.IsInstanceOfType<FormatException>(named);
        StringAssert.Contains(named.Message, "byte count of the model's fields (2147483647)");
        Assert.IsLessThan(AllocationBound, allocated);
    }

    [TestMethod]
    public void TruncatedZipsFailWithClearExceptions()
    {
        var (mlContext, _, bytes) = SavedModel();
        foreach (int length in new[] { 0, 1, 4, 22, 100, bytes.Length / 3, bytes.Length / 2, bytes.Length - 23, bytes.Length - 1 })
        {
            Exception ex = CatchLoad(mlContext, bytes.AsSpan(0, length).ToArray());
            TestContext.WriteLine($"{length} of {bytes.Length} bytes: {ex.GetType().Name}: {ex.Message}");
            LoadOutcome.AssertClear(ex, $"truncated to {length} bytes");
        }
    }

    [TestMethod]
    public void TruncatedEntriesFailWithClearExceptions()
    {
        // Entries cut short inside a well-formed zip: each KARE stream, at several lengths.
        var (mlContext, _, bytes) = SavedModel();
        foreach (string stream in new[] { KarePrimalModel.NetworkParametersStreamName, KarePrimalModel.PrimalWeightsStreamName })
        {
            foreach (int cut in new[] { 1, 8, 31, 32, 33, 200 })
            {
                byte[] corrupted = ModelZip.RewriteStream(bytes, stream, data => data.AsSpan(0, Math.Max(0, data.Length - cut)).ToArray());
                Exception named = Named(CatchLoad(mlContext, corrupted));
                Assert.IsInstanceOfType<FormatException>(named, $"{stream} minus {cut} bytes");
            }
        }
        byte[] noFields = ModelZip.RewriteKareModelEntry(bytes, Signature, entry => ModelZip.RewriteModelBlock(entry, block => block.AsSpan(0, 40).ToArray()));
        Assert.IsInstanceOfType<FormatException>(Named(CatchLoad(mlContext, noFields)));
    }

    [TestMethod]
    [DataRow(0x00010001u)]
    [DataRow(0x00010002u)]
    [DataRow(0x00010003u)]
    [DataRow(0x00010005u)]
    [DataRow(0x00010006u)]
    [DataRow(0x00010007u)]
    [DataRow(0x00010008u)]
    public void OlderLayoutsStillLoadAndScoreIdentically(uint version)
    {
        var (mlContext, model, bytes) = SavedModel();
        byte[] older = ModelZip.Downgrade(bytes, Signature, version);
        byte[] entry = ModelZip.ReadEntries(older).Single(e => ModelZip.IsModelEntry(e.Name, e.Data, Signature)).Data;
        Assert.AreEqual(version, ModelZip.VersionWritten(entry));

        var loaded = (RegressionPredictionTransformer<KareRegressionModelParameters>)ReliabilityFixtures.LoadFromBytes(mlContext, older);
        Assert.AreEqual(KareMethod.Kare, loaded.Model.Method);
        CollectionAssert.AreEqual(model.Model.NetworkParameters.ToArray(), loaded.Model.NetworkParameters.ToArray());
        CollectionAssert.AreEqual(model.Model.PrimalWeights.ToArray(), loaded.Model.PrimalWeights.ToArray());
        float[][] rows = KareTestModels.RandomRows(20, InputCount, seed: 9);
        CollectionAssert.AreEqual(KareTestModels.Score(mlContext, model, rows, InputCount), KareTestModels.Score(mlContext, loaded, rows, InputCount));

        // Saving again writes the current version, with digests.
        byte[] resaved = ReliabilityFixtures.SaveToBytes<KareTestModels.FeatureRow>(mlContext, loaded);
        Assert.AreEqual(KarePrimalModel.InputRangeVersion, ModelZip.VersionWritten(ModelZip.ReadEntries(resaved).Single(e => ModelZip.IsModelEntry(e.Name, e.Data, Signature)).Data));
    }

    [TestMethod]
    public void OlderLayoutWithAFlippedThetaByteLoadsSilentlyWhichIsWhyVersion3AddsDigests()
    {
        // Documents the defect the digests fix: without them a flipped bit in θ is a different, valid-looking model.
        var (mlContext, model, bytes) = SavedModel();
        byte[] older = ModelZip.Downgrade(bytes, Signature, 0x00010002);
        byte[] corrupted = ModelZip.RewriteStream(older, KarePrimalModel.NetworkParametersStreamName, data => Flip(data, 8 + 8 * 5 + 6, 0x01));
        var loaded = (RegressionPredictionTransformer<KareRegressionModelParameters>)ReliabilityFixtures.LoadFromBytes(mlContext, corrupted);
        Assert.AreNotEqual(model.Model.NetworkParameters[5], loaded.Model.NetworkParameters[5]);
    }

    // ----- helpers -----

    /// <summary>A hand-made regression model (d = 4, hidden 6 → 5, GELU), its transformer and its saved bytes.</summary>
    internal static (MLContext MLContext, RegressionPredictionTransformer<KareRegressionModelParameters> Model, byte[] Bytes) SavedModel()
    {
        var mlContext = new MLContext(seed: 0);
        var model = KareTestModels.CreateTransformer(mlContext, KareTestModels.CreateModel(mlContext, InputCount));
        return (mlContext, model, ReliabilityFixtures.SaveToBytes<KareTestModels.FeatureRow>(mlContext, model));
    }

    private static byte[] Flip(byte[] data, int offset, byte mask)
    {
        data[offset] ^= mask;
        return data;
    }

    /// <summary>Offset of the training curve length in the fields of the hand-made model (d = 4, L = 2, one output).</summary>
    private static int CurveLengthOffset(byte[] fields)
    {
        int offset = 4 + 4 + 4 * 2 + 4 + 16 * InputCount + 16 + 16 + 4;
        Assert.AreEqual(3, BitConverter.ToInt32(fields, offset), "layout self-check: the hand-made model has 3 curve points");
        return offset;
    }

    /// <summary>The position and length of an entry's compressed data in the raw zip, from its local file header.</summary>
    private static (int Offset, int Length) RawEntryData(byte[] zip, string nameEnd)
    {
        for (int i = 0; i + 30 < zip.Length; i++)
        {
            if (BitConverter.ToUInt32(zip, i) != 0x04034B50)
                continue;
            int nameLength = BitConverter.ToUInt16(zip, i + 26);
            int extraLength = BitConverter.ToUInt16(zip, i + 28);
            string name = Encoding.ASCII.GetString(zip, i + 30, nameLength);
            if (name.EndsWith(nameEnd, StringComparison.Ordinal))
                return (i + 30 + nameLength + extraLength, BitConverter.ToInt32(zip, i + 18));
        }
        throw new AssertFailedException($"No local header for {nameEnd}.");
    }

    private static bool ZipLayerRejects(byte[] zip, string nameEnd)
    {
        try
        {
            foreach (var _ in ModelZip.ReadEntries(zip).Where(e => e.Name.EndsWith(nameEnd, StringComparison.Ordinal)))
            {
            }
            return false;
        }
        catch (InvalidDataException)
        {
            return true;
        }
    }

    private static Exception CatchLoad(MLContext mlContext, byte[] bytes) => CatchLoadMeasured(mlContext, bytes).Exception;

    private static (Exception Exception, long Allocated) CatchLoadMeasured(MLContext mlContext, byte[] bytes)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            ReliabilityFixtures.LoadFromBytes(mlContext, bytes);
        }
        catch (Exception ex)
        {
            return (ex, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        throw new AssertFailedException("Loading the corrupted model did not fail.");
    }

    /// <summary>The exception that names the problem: ML.NET wraps a loader's exception ("Error during class instantiation").</summary>
    private Exception Named(Exception ex)
    {
        LoadOutcome.AssertClear(ex, "load");
        Exception named = LoadOutcome.Named(ex);
        TestContext.WriteLine($"{named.GetType().Name}: {named.Message}");
        return named;
    }
}
