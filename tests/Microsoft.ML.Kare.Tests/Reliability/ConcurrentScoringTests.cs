using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Tests.Trainers;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Reliability;

/// <summary>
/// One loaded model used by 8 threads at once, through a prediction engine per thread and through one shared batch
/// transform read by 8 cursors, gives scores bit-identical to single-threaded scoring (10,000 rows per thread).
/// </summary>
[TestClass]
public sealed class ConcurrentScoringTests
{
    private const int ThreadCount = 8;
    private const int RowCount = 10_000;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [TestCategory("Reliability")]
    public void RegressionScoresAreBitIdenticalAcrossEightThreads()
    {
        var mlContext = new MLContext(seed: 0);
        // Hand-made model (no training): 6 inputs, two hidden layers, so that both layers' scratch buffers are exercised.
        var model = KareTestModels.CreateTransformer(mlContext, KareTestModels.CreateModel(mlContext, KareRows.Size, new[] { 24, 12 }));
        ITransformer loaded = ReliabilityFixtures.LoadFromBytes(mlContext, ReliabilityFixtures.SaveToBytes<KareRows>(mlContext, model));
        KareRows[] rows = KareRows.Generate(RowCount, seed: 11);
        IDataView data = mlContext.Data.LoadFromEnumerable(rows);

        float[] expected = loaded.Transform(data).GetColumn<float>("Score").ToArray();
        Assert.IsTrue(expected.All(float.IsFinite));

        float[][] engines = RunConcurrently(_ =>
        {
            using var engine = mlContext.Model.CreatePredictionEngine<KareRows, ReliabilityFixtures.RegressionPrediction>(loaded);
            return rows.Select(r => engine.Predict(r).Score).ToArray();
        });
        IDataView shared = loaded.Transform(data);
        float[][] cursors = RunConcurrently(_ => ReadColumn(shared, "Score", (ValueGetter<float> getter) => { float v = 0; getter(ref v); return v; }).ToArray());

        AssertAllIdentical(expected, engines, "prediction engine");
        AssertAllIdentical(expected, cursors, "shared transform cursor");
    }

    [TestMethod]
    [TestCategory("Reliability")]
    public void BinaryScoresAndProbabilitiesAreBitIdenticalAcrossEightThreads()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView train = mlContext.Data.LoadFromEnumerable(BinaryClassificationTests.BlobRow.Generate(120, seed: 3));
        var model = mlContext.BinaryClassification.Trainers.Kare(BinaryClassificationTests.FastOptions()).Fit(train);
        ITransformer loaded = ReliabilityFixtures.LoadFromBytes(mlContext, ReliabilityFixtures.SaveToBytes<BinaryClassificationTests.BlobRow>(mlContext, model));
        BinaryClassificationTests.BlobRow[] rows = BinaryClassificationTests.BlobRow.Generate(RowCount, seed: 12).ToArray();
        IDataView data = mlContext.Data.LoadFromEnumerable(rows);
        IDataView single = loaded.Transform(data);
        float[] expectedScores = single.GetColumn<float>("Score").ToArray();
        float[] expectedProbabilities = single.GetColumn<float>("Probability").ToArray();
        bool[] expectedLabels = single.GetColumn<bool>("PredictedLabel").ToArray();

        float[][] engines = RunConcurrently(_ =>
        {
            using var engine = mlContext.Model.CreatePredictionEngine<BinaryClassificationTests.BlobRow, BinaryClassificationTests.BinaryPrediction>(loaded);
            var values = new float[2 * rows.Length];
            for (int i = 0; i < rows.Length; i++)
            {
                var prediction = engine.Predict(rows[i]);
                Assert.AreEqual(expectedLabels[i], prediction.PredictedLabel);
                values[i] = prediction.Score;
                values[rows.Length + i] = prediction.Probability;
            }
            return values;
        });
        IDataView shared = loaded.Transform(data);
        float[][] cursors = RunConcurrently(_ => ReadColumn(shared, "Score", (ValueGetter<float> getter) => { float v = 0; getter(ref v); return v; })
            .Concat(ReadColumn(shared, "Probability", (ValueGetter<float> getter) => { float v = 0; getter(ref v); return v; })).ToArray());

        float[] expected = expectedScores.Concat(expectedProbabilities).ToArray();
        AssertAllIdentical(expected, engines, "prediction engine");
        AssertAllIdentical(expected, cursors, "shared transform cursor");
    }

    [TestMethod]
    [TestCategory("Reliability")]
    public void MulticlassScoreVectorsAreBitIdenticalAcrossEightThreads()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView train = mlContext.Data.LoadFromEnumerable(MulticlassClassificationTests.BlobRow.Generate(150, seed: 3));
        var model = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(MulticlassClassificationTests.BlobRow.Species))
            .Append(mlContext.MulticlassClassification.Trainers.Kare(MulticlassClassificationTests.FastOptions()))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedSpecies", "PredictedLabel"))
            .Fit(train);
        ITransformer loaded = ReliabilityFixtures.LoadFromBytes(mlContext, ReliabilityFixtures.SaveToBytes<MulticlassClassificationTests.BlobRow>(mlContext, model));
        MulticlassClassificationTests.BlobRow[] rows = MulticlassClassificationTests.BlobRow.Generate(RowCount, seed: 12).ToArray();
        IDataView data = mlContext.Data.LoadFromEnumerable(rows);
        float[] expected = loaded.Transform(data).GetColumn<float[]>("Score").SelectMany(s => s).ToArray();

        float[][] engines = RunConcurrently(_ =>
        {
            using var engine = mlContext.Model.CreatePredictionEngine<MulticlassClassificationTests.BlobRow, MulticlassClassificationTests.SpeciesPrediction>(loaded);
            return rows.SelectMany(r => engine.Predict(r).Score).ToArray();
        });
        IDataView shared = loaded.Transform(data);
        float[][] cursors = RunConcurrently(_ => ReadColumn(shared, "Score", (ValueGetter<VBuffer<float>> getter) =>
        {
            VBuffer<float> v = default;
            getter(ref v);
            return v.DenseValues().ToArray();
        }).SelectMany(s => s).ToArray());

        AssertAllIdentical(expected, engines, "prediction engine");
        AssertAllIdentical(expected, cursors, "shared transform cursor");
    }

    /// <summary>Runs <paramref name="work"/> on <see cref="ThreadCount"/> dedicated threads released together by a barrier.</summary>
    private static T[] RunConcurrently<T>(Func<int, T> work)
    {
        using var barrier = new Barrier(ThreadCount);
        Task<T>[] tasks = Enumerable.Range(0, ThreadCount).Select(t => Task.Factory.StartNew(() =>
        {
            barrier.SignalAndWait();
            return work(t);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        Task.WaitAll(tasks);
        return tasks.Select(task => task.Result).ToArray();
    }

    /// <summary>All values of one column through a cursor of its own.</summary>
    private static List<TValue> ReadColumn<TGetter, TValue>(IDataView view, string column, Func<ValueGetter<TGetter>, TValue> read)
    {
        var values = new List<TValue>(RowCount);
        DataViewSchema.Column col = view.Schema[column];
        using DataViewRowCursor cursor = view.GetRowCursor(new[] { col });
        ValueGetter<TGetter> getter = cursor.GetGetter<TGetter>(col);
        while (cursor.MoveNext())
            values.Add(read(getter));
        return values;
    }

    private void AssertAllIdentical(float[] expected, float[][] actual, string how)
    {
        Assert.HasCount(ThreadCount, actual);
        for (int t = 0; t < actual.Length; t++)
        {
            Assert.IsTrue(ReliabilityFixtures.BitIdentical(expected, actual[t], out string difference), $"{how}, thread {t}: {difference}");
        }
        TestContext.WriteLine($"{how}: {ThreadCount} threads × {expected.Length} values bit-identical to single-threaded scoring.");
    }

    /// <summary>Rows of six features.</summary>
    public sealed class KareRows
    {
        public const int Size = 6;

        [VectorType(Size)]
        public float[] Features { get; set; } = Array.Empty<float>();

        public static KareRows[] Generate(int count, int seed)
            => KareTestModels.RandomRows(count, Size, seed).Select(x => new KareRows { Features = x }).ToArray();
    }
}
