using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Examples;
using Microsoft.ML.Kare.Scoring;

namespace Microsoft.ML.Kare.Benchmarks;

/// <summary>
/// Scoring speed of a trained KARE regression model next to FastTree trained on the same rows, both saved to a zip and
/// loaded back: rows/s of batch <c>Transform</c> (a cursor reading the Score column over a cached data view of
/// 100,000 rows) and µs per <c>PredictionEngine.Predict</c>; also µs per row of the managed scorer called directly, now
/// and as it was before the scoring-speed work (<see cref="ReferencePrimalScorer"/>), with the largest difference
/// between the two. Warm-up first; KARE and FastTree measurements alternate within each repeat; medians are reported.
/// Settings: the paper simulation (d = 10, 1 × 64) and a wider one (d = 26 as after one-hot encoding diamonds'
/// cut/color/clarity next to 6 numeric columns, 2 × 128).
/// Usage: --scoring [--settings simulation,wide] [--rows 100000] [--predictions 20000] [--repeats 7] [--wide-epochs 10].
/// </summary>
internal static class ScoringBenchmark
{
    private const int WideFeatureCount = 26;

    public static int Run(string[] args)
    {
        var settings = new HashSet<string> { "simulation", "wide" };
        int rowCount = 100_000;
        int predictions = 20_000;
        int repeats = 7;
        int wideEpochs = 10;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--settings":
                    settings = new HashSet<string>(args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries));
                    break;
                case "--rows":
                    rowCount = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--predictions":
                    predictions = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--repeats":
                    repeats = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--wide-epochs":
                    wideEpochs = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                default:
                    throw new ArgumentException($"Unknown argument {args[i]}.");
            }
        }

        Console.WriteLine($"Scoring benchmark: KARE (managed primal scorer) vs FastTree (defaults), models loaded from zip; {rowCount} rows per Transform pass, " +
                          $"{predictions} Predict calls per repeat, median of {repeats} after a warm-up; {Environment.ProcessorCount} logical cores, one scoring thread.");
        var results = new List<string>();
        if (settings.Contains("simulation"))
        {
            // The paper simulation: 800 training rows, the trainer's default options (1 × 64, 100 epochs).
            List<SimulationRow> rows = PaperSimulation.Generate(800 + rowCount, gamma: 1.0, sigma: 0.0, seed: 1000);
            results.Add(Measure("simulation (d = 10, 1 × 64)", rows.Take(800).ToList(), rows.Skip(800).ToList(),
                new KareRegressionTrainer.Options { Seed = 0 }, r => r.Features, predictions, repeats));
        }
        if (settings.Contains("wide"))
        {
            // Diamonds-like: 2,000 training rows, 2 × 128; a few epochs (scoring cost does not depend on them).
            List<WideRow> rows = WideRow.Generate(2000 + rowCount, seed: 7);
            results.Add(Measure("wide (d = 26, 2 × 128)", rows.Take(2000).ToList(), rows.Skip(2000).ToList(),
                new KareRegressionTrainer.Options { Seed = 0, HiddenLayerWidths = new[] { 128, 128 }, NumberOfEpochs = wideEpochs }, r => r.Features, predictions, repeats));
        }

        Console.WriteLine();
        Console.WriteLine("Ratios are KARE time / FastTree time (1 = as fast; ≤ 2 is the goal).");
        Console.WriteLine();
        Console.WriteLine("| setting | P | Transform rows/s KARE | Transform rows/s FastTree | Transform ratio | Predict µs KARE | Predict µs FastTree | Predict ratio | scorer µs/row now | scorer µs/row before | scorer speed-up | max rel. difference now vs before |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (string row in results)
            Console.WriteLine(row);
        return 0;
    }

    private static string Measure<TRow>(string name, List<TRow> train, List<TRow> score, KareRegressionTrainer.Options kareOptions,
        Func<TRow, float[]> featuresOf, int predictions, int repeats)
        where TRow : class, new()
    {
        Console.WriteLine($"-- {name}: training on {train.Count} rows");
        var mlContext = new MLContext(seed: 0);
        IDataView trainView = mlContext.Data.LoadFromEnumerable(train);
        long start = Stopwatch.GetTimestamp();
        ITransformer kareTrained = mlContext.Regression.Trainers.Kare(kareOptions).Fit(trainView);
        Console.WriteLine($"   KARE fit {Stopwatch.GetElapsedTime(start).TotalSeconds:F1} s");
        start = Stopwatch.GetTimestamp();
        ITransformer fastTreeTrained = mlContext.Regression.Trainers.FastTree().Fit(trainView);
        Console.WriteLine($"   FastTree fit {Stopwatch.GetElapsedTime(start).TotalSeconds:F1} s");

        ITransformer kare = SaveAndLoad(mlContext, kareTrained, trainView.Schema, "kare");
        ITransformer fastTree = SaveAndLoad(mlContext, fastTreeTrained, trainView.Schema, "fasttree");

        // Cached input, read once, so that a Transform pass measures the model rather than the enumerable's reflection.
        IDataView scoreView = mlContext.Data.Cache(mlContext.Data.LoadFromEnumerable(score));
        Consume(scoreView, "Features");
        var kareEngine = mlContext.Model.CreatePredictionEngine<TRow, ScoreRow>(kare);
        var boundsEngine = mlContext.Model.CreatePredictionEngine<TRow, IntervalRow>(kare);
        var fastTreeEngine = mlContext.Model.CreatePredictionEngine<TRow, ScoreRow>(fastTree);
        TRow[] inputs = score.Take(Math.Min(score.Count, 5000)).ToArray();

        // The managed scorer directly, now and before, from the loaded model's values.
        var parameters = ((RegressionPredictionTransformer<KareRegressionModelParameters>)kare).Model;
        double[] theta = parameters.NetworkParameters.ToArray();
        double[] beta = parameters.PrimalWeights.ToArray();
        double[] means = parameters.FeatureMeans.ToArray();
        double[] scales = parameters.FeatureScales.ToArray();
        double[] compression = parameters.FeatureCompressionScales.ToArray();
        var scorer = new PrimalScorer(parameters.Architecture, theta, beta, means, scales, new[] { parameters.LabelMean }, new[] { parameters.LabelScale },
            featureCompressionScales: compression);
        var before = new ReferencePrimalScorer(parameters.Architecture, theta, beta, means, scales, new[] { parameters.LabelMean }, new[] { parameters.LabelScale },
            compression);
        float[][] features = score.Take(20_000).Select(featuresOf).ToArray();
        double difference = MaxRelativeDifference(scorer, before, features);

        var kareTransform = new List<double>();
        var fastTreeTransform = new List<double>();
        var karePredict = new List<double>();
        var fastTreePredict = new List<double>();
        var scorerNow = new List<double>();
        var scorerBefore = new List<double>();
        var boundsTransform = new List<double>();
        var boundsPredict = new List<double>();
        double checksum = 0;
        for (int r = 0; r <= repeats; r++)
        {
            bool timed = r > 0;
            double kt = BenchmarkTiming.Seconds(() => checksum += Consume(kare.Transform(scoreView), "Score"));
            double ft = BenchmarkTiming.Seconds(() => checksum += Consume(fastTree.Transform(scoreView), "Score"));
            double kp = BenchmarkTiming.Seconds(() => checksum += PredictLoop(kareEngine, inputs, predictions));
            double fp = BenchmarkTiming.Seconds(() => checksum += PredictLoop(fastTreeEngine, inputs, predictions));
            double sn = BenchmarkTiming.Seconds(() => checksum += ScoreLoop((f, o) => scorer.Score(f, o), features));
            double sb = BenchmarkTiming.Seconds(() => checksum += ScoreLoop((f, o) => before.Score(f, o), features));
            double bt = BenchmarkTiming.Seconds(() => checksum += ConsumeBounds(kare.Transform(scoreView)));
            double bp = BenchmarkTiming.Seconds(() => { for (int i = 0; i < predictions; i++) checksum += boundsEngine.Predict(inputs[i % inputs.Length]).UpperBound; });
            if (!timed)
                continue;
            boundsTransform.Add(score.Count / bt);
            boundsPredict.Add(bp * 1e6 / predictions);
            kareTransform.Add(score.Count / kt);
            fastTreeTransform.Add(score.Count / ft);
            karePredict.Add(kp * 1e6 / predictions);
            fastTreePredict.Add(fp * 1e6 / predictions);
            scorerNow.Add(sn * 1e6 / features.Length);
            scorerBefore.Add(sb * 1e6 / features.Length);
        }
        kareEngine.Dispose();
        fastTreeEngine.Dispose();
        boundsEngine.Dispose();

        double kT = BenchmarkTiming.Median(kareTransform), fT = BenchmarkTiming.Median(fastTreeTransform), kP = BenchmarkTiming.Median(karePredict), fP = BenchmarkTiming.Median(fastTreePredict);
        double sNow = BenchmarkTiming.Median(scorerNow), sBefore = BenchmarkTiming.Median(scorerBefore);
        string line = $"| {name} | {parameters.Architecture.ParameterCount} | {kT:N0} | {fT:N0} | {fT / kT:F2} | {kP:F2} | {fP:F2} | {kP / fP:F2} | " +
                      $"{sNow:F2} | {sBefore:F2} | {sBefore / sNow:F2}× | {difference:E1} |";
        Console.WriteLine(line);
        Console.WriteLine($"   With the 90% prediction intervals read too (Score, LowerBound, UpperBound): Transform {BenchmarkTiming.Median(boundsTransform):N0} rows/s " +
                          $"({kT / BenchmarkTiming.Median(boundsTransform):F2}× the time of Score alone), Predict {BenchmarkTiming.Median(boundsPredict):F2} µs ({BenchmarkTiming.Median(boundsPredict) / kP:F2}×).");
        Console.WriteLine($"   (Transform rows/s KARE {Spread(kareTransform)}, FastTree {Spread(fastTreeTransform)}; Predict µs KARE {Spread(karePredict)}, FastTree {Spread(fastTreePredict)}; checksum {checksum:G3})");
        return line;
    }

    private static ITransformer SaveAndLoad(MLContext mlContext, ITransformer model, DataViewSchema schema, string name)
    {
        string path = Path.Combine(Path.GetTempPath(), $"kare-scoring-benchmark-{name}-{Environment.ProcessId}.zip");
        mlContext.Model.Save(model, schema, path);
        ITransformer loaded = mlContext.Model.Load(path, out _);
        File.Delete(path);
        return loaded;
    }

    /// <summary>Reads a float (or float vector) column through one cursor; returns a checksum.</summary>
    private static double Consume(IDataView view, string column)
    {
        DataViewSchema.Column col = view.Schema[column];
        using DataViewRowCursor cursor = view.GetRowCursor(new[] { col });
        double sum = 0;
        if (col.Type is VectorDataViewType)
        {
            ValueGetter<VBuffer<float>> getter = cursor.GetGetter<VBuffer<float>>(col);
            VBuffer<float> value = default;
            while (cursor.MoveNext())
            {
                getter(ref value);
                sum += value.GetValues()[0];
            }
        }
        else
        {
            ValueGetter<float> getter = cursor.GetGetter<float>(col);
            float value = 0;
            while (cursor.MoveNext())
            {
                getter(ref value);
                sum += value;
            }
        }
        return sum;
    }

    /// <summary>Reads Score, LowerBound and UpperBound through one cursor; returns a checksum.</summary>
    private static double ConsumeBounds(IDataView view)
    {
        DataViewSchema.Column[] columns = { view.Schema["Score"], view.Schema["LowerBound"], view.Schema["UpperBound"] };
        using DataViewRowCursor cursor = view.GetRowCursor(columns);
        ValueGetter<float>[] getters = columns.Select(c => cursor.GetGetter<float>(c)).ToArray();
        double sum = 0;
        float value = 0;
        while (cursor.MoveNext())
        {
            foreach (ValueGetter<float> getter in getters)
            {
                getter(ref value);
                sum += value;
            }
        }
        return sum;
    }

    private static double PredictLoop<TRow>(PredictionEngine<TRow, ScoreRow> engine, TRow[] inputs, int count)
        where TRow : class
    {
        double sum = 0;
        for (int i = 0; i < count; i++)
            sum += engine.Predict(inputs[i % inputs.Length]).Score;
        return sum;
    }

    private delegate void ScoreAction(ReadOnlySpan<float> features, Span<float> output);

    private static double ScoreLoop(ScoreAction score, float[][] features)
    {
        var output = new float[1];
        double sum = 0;
        foreach (float[] row in features)
        {
            score(row, output);
            sum += output[0];
        }
        return sum;
    }

    private static double MaxRelativeDifference(PrimalScorer now, ReferencePrimalScorer before, float[][] features)
    {
        var a = new float[1];
        var b = new float[1];
        double worst = 0;
        foreach (float[] row in features)
        {
            now.Score(row, a);
            before.Score(row, b);
            worst = Math.Max(worst, Math.Abs(a[0] - b[0]) / Math.Max(Math.Abs(b[0]), 1e-3));
        }
        return worst;
    }

    private static string Spread(List<double> values)
        => string.Create(CultureInfo.InvariantCulture, $"{values.Min():G3}–{values.Max():G3}");
}

/// <summary>The Score column of a regression model's output.</summary>
internal sealed class ScoreRow
{
    public float Score { get; set; }
}

internal sealed class IntervalRow
{
    public float Score { get; set; }
    public float LowerBound { get; set; }
    public float UpperBound { get; set; }
}

/// <summary>
/// Diamonds-like rows after featurization: 6 numeric columns (carat-, depth-, table- and size-like) and one-hot
/// cut (5), color (7) and clarity (8): 26 features; a smooth, nonlinear price-like label.
/// </summary>
internal sealed class WideRow
{
    [VectorType(26)]
    public float[] Features { get; set; } = Array.Empty<float>();

    public float Label { get; set; }

    public static List<WideRow> Generate(int count, int seed)
    {
        var random = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var rows = new List<WideRow>(count);
        for (int i = 0; i < count; i++)
        {
            var x = new float[26];
            double carat = Math.Exp(-0.5 + 0.5 * Normal());
            x[0] = (float)carat;
            x[1] = (float)(61.7 + 1.4 * Normal());
            x[2] = (float)(57.5 + 2.2 * Normal());
            double size = 6.5 * Math.Cbrt(carat);
            x[3] = (float)(size + 0.05 * Normal());
            x[4] = (float)(size + 0.05 * Normal());
            x[5] = (float)(0.62 * size + 0.03 * Normal());
            int cut = random.Next(5), color = random.Next(7), clarity = random.Next(8);
            x[6 + cut] = 1;
            x[11 + color] = 1;
            x[18 + clarity] = 1;
            double logPrice = 8.4 + 1.8 * Math.Log(carat) + 0.04 * cut - 0.08 * color + 0.1 * clarity - 0.05 * Math.Abs(x[1] - 61.7) + 0.1 * Normal();
            rows.Add(new WideRow { Features = x, Label = (float)Math.Exp(logPrice) / 1000f });
        }
        return rows;
    }
}
