using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Reliability;

/// <summary>
/// The SHA-256 digests of the infinite-width NTK (0x00010002) and mean-field (0x00010002) model formats, which store
/// them as the KARE format does (<see cref="ModelIntegrity"/>): a flipped byte in a stored vector or in the main fields
/// fails with "The … model file is corrupted"; deterministic damage to every byte those formats own either fails clearly
/// or leaves the scores bit-identical, never a different model; and files of the initial version, without digests, still
/// load and score identically.
/// </summary>
[TestClass]
public sealed class OtherModelFormatIntegrityTests
{
    private const string Ntk = "infinite-width NTK";
    private const string MeanField = "mean-field";
    private const uint InitialVersion = 0x00010001;
    private const int FuzzVariants = 300;
    private const int Seed = 20261124;

    private static readonly int[] InterestingInts = { 0, -1, 1, int.MaxValue, int.MinValue, 1 << 24, (1 << 24) + 1, 1 << 30, 65536, 255 };

    private static readonly long[] InterestingLongs =
    {
        long.MaxValue, long.MinValue, -1, 0, 1L << 40, int.MaxValue + 1L, BitConverter.DoubleToInt64Bits(double.NaN),
        BitConverter.DoubleToInt64Bits(double.PositiveInfinity), BitConverter.DoubleToInt64Bits(-1e308), BitConverter.DoubleToInt64Bits(0.0),
    };

    private static readonly Lazy<Saved> NtkModel = new(() => Train(Ntk));
    private static readonly Lazy<Saved> MeanFieldModel = new(() => Train(MeanField));

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(Ntk)]
    [DataRow(MeanField)]
    public void FlippedByteInsideEachStoredVectorIsReportedAsCorrupted(string format)
    {
        Saved saved = Get(format);
        foreach (string stream in saved.Streams)
        {
            byte[] data = ModelZip.ReadEntries(saved.Bytes).Single(e => e.Name.EndsWith("/" + stream, StringComparison.Ordinal)).Data;
            int values = (data.Length - 8 - ModelZip.DigestSize) / 8;
            Assert.AreEqual(values, BitConverter.ToInt64(data, 0), $"layout self-check of {stream}: long n; double[n]; byte[32]");
            foreach (int offset in new[] { 8, 8 + 8 * (values / 2) + 3, 8 + 8 * values - 1 })
            {
                byte[] corrupted = ModelZip.RewriteStream(saved.Bytes, stream, d => Flip(d, offset, 0x04));
                Exception named = Named(CatchLoad(corrupted), $"{stream} byte {offset}");
                Assert.IsInstanceOfType<FormatException>(named);
                StringAssert.Contains(named.Message, $"The {format} model file is corrupted");
                StringAssert.Contains(named.Message, stream);
            }
        }
    }

    [TestMethod]
    [DataRow(Ntk)]
    [DataRow(MeanField)]
    public void FlippedByteInTheMainFieldsOrTheirDigestIsReportedAsCorrupted(string format)
    {
        Saved saved = Get(format);
        byte[] entry = ModelEntry(saved.Bytes, saved.Signature);
        Assert.AreEqual(saved.IntegrityVersion, ModelZip.VersionWritten(entry));
        int fieldsLength = (int)BitConverter.ToInt64(entry, ModelZip.HeaderSize + 4);
        int start = ModelZip.HeaderSize + 12;
        // The infinite-width model ends with its prediction interval block: long 28; coverage, half-width, rows, calibration; byte[32].
        int intervalBlock = format == Ntk ? 8 + 24 + ModelZip.DigestSize : 0;
        Assert.AreEqual(12 + fieldsLength + ModelZip.DigestSize + intervalBlock, BitConverter.ToInt64(entry, 0x18), "layout self-check: int; long b; byte[b]; byte[32]");
        int end = start + fieldsLength + ModelZip.DigestSize;
        int stride = Math.Max(1, (end - start) / 40);
        var offsets = Enumerable.Range(0, (end - start + stride - 1) / stride).Select(k => start + k * stride).Append(end - 1).Distinct();
        int checkedBytes = 0;
        foreach (int at in offsets)
        {
            byte[] corrupted = ModelZip.RewriteKareModelEntry(saved.Bytes, saved.Signature, data => Flip(data, at, (byte)(1 << (at % 8))));
            Exception named = Named(CatchLoad(corrupted), $"byte {at - start}");
            Assert.IsInstanceOfType<FormatException>(named, $"byte {at - start}");
            StringAssert.Contains(named.Message, $"The {format} model file is corrupted", $"byte {at - start}");
            checkedBytes++;
        }
        TestContext.WriteLine($"{checkedBytes} of {fieldsLength} + {ModelZip.DigestSize} bytes of fields and digest checked.");
        Assert.IsGreaterThan(20, checkedBytes);
    }

    [TestMethod]
    [DataRow(Ntk)]
    [DataRow(MeanField)]
    public void CorruptedModelFilesFailClearlyOrScoreIdentically(string format)
    {
        // Bit flips, absurd integers and truncations in every byte the format owns: the model block of its model entry
        // (after ML.NET's 256-byte header) and its two vector streams, re-zipped so that the zip's CRC-32 is valid.
        Saved saved = Get(format);
        var entries = ModelZip.ReadEntries(saved.Bytes);
        int[] targets = entries.Select((e, j) => (e, j))
            .Where(x => ModelZip.IsModelEntry(x.e.Name, x.e.Data, saved.Signature)
                        || saved.Streams.Any(s => x.e.Name.EndsWith("/" + s, StringComparison.Ordinal)))
            .Select(x => x.j).ToArray();
        Assert.HasCount(3, targets);

        var random = new Random(Seed);
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var defects = new List<string>();
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < FuzzVariants; i++)
        {
            int target = targets[i / 5 % targets.Length];
            var (name, data) = entries[target];
            var (damaged, what) = Damage(data, ModelZip.IsModelEntry(name, data, saved.Signature), i % 5, random);
            if (damaged.AsSpan().SequenceEqual(data))
            {
                outcomes["unchanged"] = outcomes.GetValueOrDefault("unchanged") + 1;
                continue;
            }
            byte[] bytes = ModelZip.WriteEntries(entries.Select((e, j) => j == target ? (e.Name, damaged) : e));
            string description = $"#{i} {name}: {what}";
            string outcome;
            try
            {
                ITransformer loaded = ReliabilityFixtures.LoadFromBytes(new MLContext(seed: 0), bytes);
                float[] scores = Score(loaded, saved.Probe);
                if (ReliabilityFixtures.BitIdentical(saved.Expected, scores, out string difference))
                {
                    outcome = "loaded, identical scores";
                }
                else
                {
                    outcome = "loaded, different scores";
                    defects.Add($"{description}: loaded silently as a different model ({difference})");
                }
            }
            catch (Exception ex)
            {
                if (!LoadOutcome.IsClear(ex, strict: true, out string reason))
                    defects.Add($"{description}: {reason}: {ex}");
                outcome = "load failed: " + LoadOutcome.Describe(ex);
            }
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }
        TestContext.WriteLine($"{FuzzVariants} variants in {watch.Elapsed.TotalSeconds:F1} s");
        foreach (var (outcome, count) in outcomes)
            TestContext.WriteLine($"{count,5}  {outcome}");
        foreach (string defect in defects.Take(10))
            TestContext.WriteLine("DEFECT " + defect);
        Assert.IsEmpty(defects, $"{defects.Count} corrupted files were not handled cleanly; first: {defects.FirstOrDefault()}");
        Assert.IsGreaterThan(FuzzVariants * 9 / 10, outcomes.Where(o => o.Key.StartsWith("load failed", StringComparison.Ordinal)).Sum(o => o.Value),
            "Nearly every damage to the format's own bytes should be detected.");
    }

    [TestMethod]
    [DataRow(Ntk)]
    [DataRow(MeanField)]
    public void InitialVersionWithoutDigestsStillLoadsAndScoresIdentically(string format)
    {
        Saved saved = Get(format);
        byte[] older = DowngradeToInitialVersion(saved);
        Assert.AreEqual(InitialVersion, ModelZip.VersionWritten(ModelEntry(older, saved.Signature)));

        var mlContext = new MLContext(seed: 0);
        ITransformer loaded = ReliabilityFixtures.LoadFromBytes(mlContext, older);
        Assert.IsTrue(ReliabilityFixtures.BitIdentical(saved.Expected, Score(loaded, saved.Probe), out string difference), difference);

        // Saving again writes the current version, with digests, byte for byte as the original save.
        byte[] resaved = ReliabilityFixtures.SaveToBytes<ReliabilityFixtures.RegressionRow>(mlContext, loaded);
        Assert.AreEqual(saved.IntegrityVersion, ModelZip.VersionWritten(ModelEntry(resaved, saved.Signature)));
        foreach (string stream in saved.Streams)
        {
            CollectionAssert.AreEqual(StreamData(saved.Bytes, stream), StreamData(resaved, stream), stream);
        }
    }

    [TestMethod]
    [DataRow(Ntk)]
    [DataRow(MeanField)]
    public void InitialVersionWithAFlippedVectorByteLoadsSilentlyWhichIsWhyTheDigestsWereAdded(string format)
    {
        // Documents the defect the new version fixes: without digests a flipped bit in a stored vector is a different,
        // valid-looking model.
        Saved saved = Get(format);
        byte[] older = DowngradeToInitialVersion(saved);
        string stream = saved.Streams[0];
        byte[] corrupted = ModelZip.RewriteStream(older, stream, data => Flip(data, 8 + 8 * 2 + 5, 0x01));
        ITransformer loaded = ReliabilityFixtures.LoadFromBytes(new MLContext(seed: 0), corrupted);
        Assert.IsFalse(ReliabilityFixtures.BitIdentical(saved.Expected, Score(loaded, saved.Probe), out _));
    }

    // ----- helpers -----

    /// <summary>A trained model of one format, saved, with the scores of a probe set.</summary>
    private sealed record Saved(string Signature, uint IntegrityVersion, string[] Streams, byte[] Bytes, IDataView Probe, float[] Expected);

    private static Saved Get(string format) => format == Ntk ? NtkModel.Value : MeanFieldModel.Value;

    /// <summary>Trains the format's model through its catalog on 60 rows and saves it.</summary>
    private static Saved Train(string format)
    {
        var mlContext = new MLContext(seed: 0);
        IDataView data = mlContext.Data.LoadFromEnumerable(ReliabilityFixtures.RegressionRows(60, seed: 1));
        IDataView probe = mlContext.Data.LoadFromEnumerable(ReliabilityFixtures.RegressionRows(16, seed: 5));
        ITransformer model;
        Saved saved;
        if (format == Ntk)
        {
            model = mlContext.Regression.Trainers.InfiniteWidthNtk(numberOfHiddenLayers: 2).Fit(data);
            saved = new Saved("IWNTKREG", 0x00010003, // the prediction intervals' version
                new[] { InfiniteWidthNtkModelParameters.TrainingInputsStreamName, InfiniteWidthNtkModelParameters.DualWeightsStreamName },
                ReliabilityFixtures.SaveToBytes<ReliabilityFixtures.RegressionRow>(mlContext, model), probe, Score(model, probe));
        }
        else
        {
            model = mlContext.Regression.Trainers.MeanFieldTwoTimescale(new MeanFieldRegressionTrainer.Options
            {
                NumberOfParticles = 20,
                NumberOfSteps = 20,
                Seed = 0,
                NumberOfThreads = 1,
            }).Fit(data);
            saved = new Saved("MFTTREGR", MeanFieldModelParameters.IntegrityVersion,
                new[] { MeanFieldModelParameters.FirstLayerStreamName, MeanFieldModelParameters.SecondLayerStreamName },
                ReliabilityFixtures.SaveToBytes<ReliabilityFixtures.RegressionRow>(mlContext, model), probe, Score(model, probe));
        }
        Assert.IsTrue(saved.Expected.All(float.IsFinite), "the trained model scores finite values");
        return saved;
    }

    /// <summary>
    /// One damage of an entry: in the model entry only inside its model block (ML.NET's header and the loader assembly
    /// name after the block are ML.NET's). Kinds: 0 bit flip, 1 int, 2 long, 3 truncation, 4 two bit flips.
    /// </summary>
    private static (byte[] Data, string What) Damage(byte[] data, bool modelEntry, int kind, Random random)
    {
        byte[] copy = (byte[])data.Clone();
        int start = modelEntry ? ModelZip.HeaderSize : 0;
        int end = modelEntry ? ModelZip.HeaderSize + (int)BitConverter.ToInt64(data, 0x18) : data.Length;
        switch (kind)
        {
            case 0:
            {
                int offset = random.Next(start, end);
                int bit = random.Next(8);
                copy[offset] ^= (byte)(1 << bit);
                return (copy, $"bit {bit} of byte {offset}");
            }
            case 1:
            {
                int offset = random.Next(start, end - 3);
                int value = InterestingInts[random.Next(InterestingInts.Length)];
                BitConverter.TryWriteBytes(copy.AsSpan(offset), value);
                return (copy, $"int {value} at {offset}");
            }
            case 2:
            {
                int offset = random.Next(start, end - 7);
                long value = InterestingLongs[random.Next(InterestingLongs.Length)];
                BitConverter.TryWriteBytes(copy.AsSpan(offset), value);
                return (copy, $"long {value} at {offset}");
            }
            case 3:
            {
                int length = random.Next(modelEntry ? 0 : start, end);
                return (data.AsSpan(0, length).ToArray(), $"truncated to {length} bytes");
            }
            default:
            {
                int first = random.Next(start, end);
                int second = random.Next(start, end);
                copy[first] ^= (byte)(1 << random.Next(8));
                copy[second] ^= (byte)(1 << random.Next(8));
                return (copy, $"bits flipped in bytes {first} and {second}");
            }
        }
    }

    /// <summary>Rewrites a saved model in the initial layout: no field byte count, no digests, version 0x00010001.</summary>
    private static byte[] DowngradeToInitialVersion(Saved saved)
    {
        byte[] zip = ModelZip.RewriteKareModelEntry(saved.Bytes, saved.Signature, entry =>
        {
            byte[] result = ModelZip.RewriteModelBlock(entry, block =>
            {
                byte[] fields = ModelZip.Fields(block);
                // The infinite-width model's prediction interval block (from 0x00010003) did not exist then.
                byte[] rest = saved.Signature == "IWNTKREG" ? Array.Empty<byte>() : block.Skip(12 + fields.Length + ModelZip.DigestSize).ToArray();
                return block.Take(4).Concat(fields).Concat(rest).ToArray();
            });
            ModelZip.SetVersions(result, InitialVersion, InitialVersion);
            return result;
        });
        foreach (string stream in saved.Streams)
            zip = ModelZip.RewriteStream(zip, stream, data => data.AsSpan(0, data.Length - ModelZip.DigestSize).ToArray());
        return zip;
    }

    private static byte[] ModelEntry(byte[] zip, string signature)
        => ModelZip.ReadEntries(zip).Single(e => ModelZip.IsModelEntry(e.Name, e.Data, signature)).Data;

    private static byte[] StreamData(byte[] zip, string stream)
        => ModelZip.ReadEntries(zip).Single(e => e.Name.EndsWith("/" + stream, StringComparison.Ordinal)).Data;

    private static float[] Score(ITransformer model, IDataView data) => model.Transform(data).GetColumn<float>("Score").ToArray();

    private static byte[] Flip(byte[] data, int offset, byte mask)
    {
        data[offset] ^= mask;
        return data;
    }

    private static Exception CatchLoad(byte[] bytes)
    {
        try
        {
            ReliabilityFixtures.LoadFromBytes(new MLContext(seed: 0), bytes);
        }
        catch (Exception ex)
        {
            return ex;
        }
        throw new AssertFailedException("Loading the corrupted model did not fail.");
    }

    /// <summary>The exception that names the problem (ML.NET wraps a loader's exception), after checking the failure is clear.</summary>
    private Exception Named(Exception ex, string context)
    {
        LoadOutcome.AssertClear(ex, context);
        Exception named = LoadOutcome.Named(ex);
        TestContext.WriteLine($"{context}: {named.GetType().Name}: {named.Message}");
        return named;
    }
}
