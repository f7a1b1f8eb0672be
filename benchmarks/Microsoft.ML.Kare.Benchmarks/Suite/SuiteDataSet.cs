using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace Microsoft.ML.Kare.Benchmarks.Suite;

/// <summary>The learning task of a suite data set, as DATASETS.md names it.</summary>
internal enum SuiteTask
{
    Regression,
    Binary,
    Multiclass,
}

/// <summary>
/// One data set of a folder in the suite format: <c>NAME.csv</c> (header row, first column the label, then numeric
/// features) and <c>NAME.splits.csv</c> (one column per split, one row per data row: 1 = training row, 0 = test row),
/// with its task from the folder's <c>DATASETS.md</c> table.
/// </summary>
internal sealed class SuiteDataSet
{
    private SuiteDataSet(string name, SuiteTask task, float[] labels, float[][] features, string[] featureNames, bool[][] splits, bool[][]? testMasks = null)
    {
        Name = name;
        Task = task;
        Labels = labels;
        Features = features;
        FeatureNames = featureNames;
        TrainingMasks = splits;
        TestMasks = testMasks ?? splits.Select(m => m.Select(t => !t).ToArray()).ToArray();
    }

    public string Name { get; }

    public SuiteTask Task { get; }

    /// <summary>The label of each row: a real number, 0/1, or a class index 0..k−1.</summary>
    public float[] Labels { get; }

    /// <summary>The features of each row, as stored (not standardised).</summary>
    public float[][] Features { get; }

    public string[] FeatureNames { get; }

    /// <summary>Per split, per row: true for a training row.</summary>
    public bool[][] TrainingMasks { get; }

    /// <summary>
    /// Per split, per row: true for a test row. The complement of <see cref="TrainingMasks"/> unless the training rows were
    /// subsampled (<see cref="WithTrainingRows"/>): the rows left out then belong to neither.
    /// </summary>
    public bool[][] TestMasks { get; }

    public int RowCount => Labels.Length;

    public int FeatureCount => FeatureNames.Length;

    public int SplitCount => TrainingMasks.Length;

    /// <summary>Training rows of split <paramref name="split"/> (1-based).</summary>
    public int TrainingRowCount(int split) => TrainingMasks[split - 1].Count(t => t);

    /// <summary>Test rows of split <paramref name="split"/> (1-based).</summary>
    public int TestRowCount(int split) => TestMasks[split - 1].Count(t => t);

    /// <summary>
    /// The same data set and test rows with at most <paramref name="rows"/> training rows per split: a random subsample of
    /// each split's training rows (fixed by the data set's name and the split), stratified by class for classification so
    /// that every class keeps its share and at least one row (more than N rows only when N is below the number of
    /// classes); unchanged where a split has no more rows than that. It measures the trainers at small n on real data,
    /// the regime where selection is hardest.
    /// </summary>
    public SuiteDataSet WithTrainingRows(int rows)
    {
        if (rows < 1)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "The training rows per split must be at least 1.");
        var masks = new bool[SplitCount][];
        for (int s = 0; s < SplitCount; s++)
        {
            int[] training = Enumerable.Range(0, RowCount).Where(i => TrainingMasks[s][i]).ToArray();
            masks[s] = new bool[RowCount];
            foreach (int i in training.Length <= rows ? training : Subsample(training, rows, StableSeed(Name, s + 1)))
                masks[s][i] = true;
        }
        return new SuiteDataSet(Name, Task, Labels, Features, FeatureNames, masks, TestMasks);
    }

    private int[] Subsample(int[] training, int rows, int seed)
    {
        var random = new Random(seed);
        int[] shuffled = training.ToArray();
        random.Shuffle(shuffled);
        if (Task == SuiteTask.Regression)
            return shuffled[..rows];
        // Stratified: each class's share of the rows, rounded by largest remainder, at least one row per class.
        var classes = shuffled.GroupBy(i => Labels[i]).OrderBy(g => g.Key).Select(g => g.ToArray()).ToArray();
        double[] quota = classes.Select(c => rows * (double)c.Length / training.Length).ToArray();
        int[] take = quota.Select((q, k) => Math.Min(classes[k].Length, Math.Max(1, (int)Math.Floor(q)))).ToArray();
        foreach (int k in Enumerable.Range(0, classes.Length).OrderByDescending(k => quota[k] - Math.Floor(quota[k])))
        {
            if (take.Sum() >= rows)
                break;
            if (take[k] < classes[k].Length)
                take[k]++;
        }
        // The one row each rare class keeps can overshoot when N is tiny: give back from the largest classes.
        while (take.Sum() > rows && take.Max() > 1)
            take[Array.IndexOf(take, take.Max())]--;
        return classes.SelectMany((c, k) => c.Take(take[k])).ToArray();
    }

    /// <summary>
    /// The same rows and splits with every feature of more than two values replaced by its normal score under the
    /// training rows of <paramref name="split"/> (1-based): Φ⁻¹ of the mid-rank empirical distribution function
    /// F(u) = (#{x &lt; u} + #{x = u}/2)/n at the training values, linear between them and constant beyond them. Features
    /// of one or two values are kept. A candidate preprocessing measured against the trainer's own standardisation. With
    /// <paramref name="appended"/>, the scores are appended to the stored features instead of replacing them: those of
    /// the columns whose score correlates with the column (compressed when skewed, as the trainer does) below
    /// <paramref name="maximumCorrelation"/> on the training rows.
    /// </summary>
    public SuiteDataSet WithNormalScores(int split, bool appended = false, double maximumCorrelation = 1.0)
    {
        bool[] training = TrainingMasks[split - 1];
        int[] rows = Enumerable.Range(0, RowCount).Where(i => training[i]).ToArray();
        double[] raw = rows.SelectMany(i => Features[i].Select(v => (double)v)).ToArray();
        float[][] features = Features.Select(r => (float[])r.Clone()).ToArray();
        for (int j = 0; j < FeatureCount; j++)
        {
            // Every distinct training value is a knot (no thinning: the prototype as measured).
            if (Microsoft.ML.Kare.Training.NormalScoreColumns.ColumnScore(raw, rows.Length, FeatureCount, j, weights: null, maximumKnots: int.MaxValue)
                is not (double[] knots, double[] scores))
                continue;
            for (int i = 0; i < RowCount; i++)
                features[i][j] = (float)Microsoft.ML.Kare.Scoring.NormalScores.Score(Features[i][j], knots, scores);
        }
        if (!appended)
            return new SuiteDataSet(Name, Task, Labels, features, FeatureNames, TrainingMasks, TestMasks);
        // Appended: the stored features, then the normal scores of those with more than two values whose score's
        // correlation with the column as the trainer sees it (compressed when skewed) on the training rows is below the
        // maximum (a score that is nearly a linear function of its column adds no information).
        double[] compression = Microsoft.ML.Kare.Training.SkewedFeatures.CompressionScales(raw, rows.Length, FeatureCount, null);
        int[] scored = Enumerable.Range(0, FeatureCount)
            .Where(j => Enumerable.Range(0, RowCount).Any(i => features[i][j] != Features[i][j]))
            .Where(j => Microsoft.ML.Kare.Training.NormalScoreColumns.WeightedCorrelation(
                rows.Select(i => Microsoft.ML.Kare.Scoring.FeatureCompression.Apply(Features[i][j], compression[j])).ToArray(),
                rows.Select(i => (double)features[i][j]).ToArray(), weights: null) < maximumCorrelation)
            .ToArray();
        float[][] both = Enumerable.Range(0, RowCount).Select(i => Features[i].Concat(scored.Select(j => features[i][j])).ToArray()).ToArray();
        return new SuiteDataSet(Name, Task, Labels, both, FeatureNames.Concat(scored.Select(j => FeatureNames[j] + "_score")).ToArray(), TrainingMasks, TestMasks);
    }

    /// <summary>A seed that depends only on the text and the number (string.GetHashCode differs from process to process).</summary>
    private static int StableSeed(string text, int number)
    {
        unchecked
        {
            int hash = (int)2166136261;
            foreach (char c in text)
                hash = (hash ^ c) * 16777619;
            return (hash ^ number) * 16777619 & int.MaxValue;
        }
    }

    /// <summary>A data set built in memory (for example a simulation), with its splits' training masks.</summary>
    public static SuiteDataSet FromArrays(string name, SuiteTask task, float[] labels, float[][] features, bool[][] trainingMasks)
        => new(name, task, labels, features, Enumerable.Range(1, features[0].Length).Select(j => $"x{j}").ToArray(), trainingMasks);

    /// <summary>The data sets DATASETS.md lists in <paramref name="folder"/>, in its order, with their tasks.</summary>
    public static IReadOnlyList<(string Name, SuiteTask Task)> Catalog(string folder)
    {
        string path = Path.Combine(folder, "DATASETS.md");
        if (!File.Exists(path))
            throw new FileNotFoundException($"A suite folder needs a DATASETS.md table (| name | task | ... |); none in {folder}.", path);
        var result = new List<(string, SuiteTask)>();
        foreach (string line in File.ReadLines(path))
        {
            string[] cells = line.Split('|', StringSplitOptions.TrimEntries);
            if (cells.Length < 4 || cells[1].Length == 0 || cells[1] == "name" || cells[1].StartsWith("-", StringComparison.Ordinal))
                continue;
            SuiteTask task = cells[2].ToLowerInvariant() switch
            {
                "regression" => SuiteTask.Regression,
                "binary" => SuiteTask.Binary,
                "multiclass" => SuiteTask.Multiclass,
                string other => throw new FormatException($"DATASETS.md: data set '{cells[1]}' has the unknown task '{other}' (regression, binary or multiclass)."),
            };
            result.Add((cells[1], task));
        }
        return result;
    }

    public static SuiteDataSet Load(string folder, string name, SuiteTask task)
    {
        string dataPath = Path.Combine(folder, name + ".csv");
        string splitsPath = Path.Combine(folder, name + ".splits.csv");
        string[] lines = File.ReadAllLines(dataPath);
        string[] header = SplitCsv(lines[0]);
        if (header.Length < 2 || header[0] != "Label")
            throw new FormatException($"{dataPath}: the first column must be 'Label', followed by at least one feature.");
        var labels = new List<float>();
        var features = new List<float[]>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0)
                continue;
            string[] cells = SplitCsv(lines[i]);
            if (cells.Length != header.Length)
                throw new FormatException($"{dataPath}, line {i + 1}: {cells.Length} values, the header has {header.Length}.");
            labels.Add(Parse(cells[0], dataPath, i + 1, "Label"));
            var row = new float[header.Length - 1];
            for (int j = 1; j < cells.Length; j++)
                row[j - 1] = Parse(cells[j], dataPath, i + 1, header[j]);
            features.Add(row);
        }

        string[] splitLines = File.ReadAllLines(splitsPath).Where(l => l.Length > 0).ToArray();
        int splitCount = SplitCsv(splitLines[0]).Length;
        if (splitLines.Length - 1 != labels.Count)
            throw new FormatException($"{splitsPath}: {splitLines.Length - 1} rows, {dataPath} has {labels.Count}.");
        var masks = new bool[splitCount][];
        for (int s = 0; s < splitCount; s++)
            masks[s] = new bool[labels.Count];
        for (int i = 0; i < labels.Count; i++)
        {
            string[] cells = SplitCsv(splitLines[i + 1]);
            for (int s = 0; s < splitCount; s++)
                masks[s][i] = cells[s] == "1";
        }
        return new SuiteDataSet(name, task, labels.ToArray(), features.ToArray(), header[1..], masks);
    }

    private static float Parse(string cell, string path, int line, string column)
    {
        if (!float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
            throw new FormatException($"{path}, line {line}, column '{column}': '{cell}' is not a number.");
        return value;
    }

    private static string[] SplitCsv(string line) => line.Split(',').Select(c => c.Trim().Trim('"')).ToArray();
}
