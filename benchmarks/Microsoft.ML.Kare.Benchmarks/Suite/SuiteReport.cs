using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace Microsoft.ML.Kare.Benchmarks.Suite;

/// <summary>A model's mean test metric and fit time on one data set (mean over the splits it was run on).</summary>
internal sealed record SuiteScore(double Metric, double LogLoss, double FitSeconds, int Splits, double SelectedEpoch = double.NaN);

/// <summary>
/// The suite's tables: per task, each data set's test metric for the reference models (<c>peers.txt</c>, with ML.NET's
/// rows replaced by refitted ones when a refit run is given) and for each candidate run, the candidate's rank among the
/// reference models (1 = best; ties share the mean rank), fit times, log-loss, and the mean rank per task. Each candidate
/// is ranked against the reference models alone, so candidates compare by their rank, not against one another.
/// </summary>
internal sealed class SuiteReport
{
    /// <summary>Data sets with fewer training rows than this count as "smaller" in the mean-rank table.</summary>
    public const int SmallerDataSetRows = 2000;

    private readonly IReadOnlyList<(string Name, SuiteTask Task, int TrainingRows)> _dataSets;
    private readonly Dictionary<string, Dictionary<string, SuiteScore>> _peers = new(StringComparer.Ordinal); // data set → model → score
    private readonly List<(string Run, Dictionary<string, SuiteScore> Scores)> _candidates = new();
    private readonly List<(string Run, List<SuiteFitResult> Results)> _candidateResults = new();

    public SuiteReport(IReadOnlyList<(string Name, SuiteTask Task, int TrainingRows)> dataSets) => _dataSets = dataSets;

    /// <summary>Reads <c>peers.txt</c> lines <c>data-set model metric seconds</c>.</summary>
    public void AddPeerFile(string path)
    {
        foreach (string line in File.ReadLines(path))
        {
            string[] cells = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (cells.Length < 4 || line.TrimStart().StartsWith('#'))
                continue;
            if (cells[1] == "Kare")
                continue; // an earlier KARE result: the candidates are the runs given
            double metric = double.Parse(cells[2], CultureInfo.InvariantCulture);
            double seconds = double.Parse(cells[3], CultureInfo.InvariantCulture);
            Peers(cells[0])[cells[1]] = new SuiteScore(metric, double.NaN, seconds, 0);
        }
    }

    /// <summary>Refitted reference models (complete data sets only) replace the file's rows for the same model.</summary>
    public void AddPeerRun(IEnumerable<SuiteFitResult> results, int splits)
    {
        foreach (var group in results.GroupBy(r => (r.DataSet, r.Model)))
        {
            if (group.Count() == splits)
                Peers(group.Key.DataSet)[group.Key.Model] = Mean(group);
        }
    }

    public void AddCandidate(string run, IEnumerable<SuiteFitResult> results)
    {
        List<SuiteFitResult> list = results.ToList();
        _candidates.Add((run, list.GroupBy(r => r.DataSet).ToDictionary(g => g.Key, Mean, StringComparer.Ordinal)));
        _candidateResults.Add((run, list));
    }

    /// <summary>
    /// Regression candidates with prediction intervals: per data set, the mean test coverage and width over the splits,
    /// the least coverage a 90% interval should reach (0.90 − 2·√(0.09 / test rows over all splits): two standard errors), and the split-conformal
    /// baseline's coverage and width; then the coverage pooled over every data set and split.
    /// </summary>
    private void RenderIntervals(StringBuilder text)
    {
        foreach (var (run, results) in _candidateResults)
        {
            var withIntervals = results.Where(r => !double.IsNaN(r.IntervalCoverage)).ToList();
            if (withIntervals.Count == 0)
                continue;
            text.AppendLine($"## Regression prediction intervals of {run}: test coverage and mean width (label units), mean over splits");
            text.AppendLine();
            text.AppendLine("| data set | training rows | splits | coverage | least allowed | mean width | split-conformal coverage | split-conformal width | width ratio | adaptive split-conformal coverage | adaptive width / split-conformal width |");
            text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var (name, _, rows) in _dataSets.Where(d => withIntervals.Any(r => r.DataSet == d.Name)))
            {
                var set = withIntervals.Where(r => r.DataSet == name).ToList();
                double coverage = set.Average(r => r.IntervalCoverage), width = set.Average(r => r.IntervalWidth);
                double least = 0.90 - 2 * Math.Sqrt(0.09 / set.Sum(r => r.TestRows));
                double baselineWidth = set.Average(r => r.SplitConformalWidth);
                text.AppendLine($"| {name} | {rows} | {set.Count} | {F4(coverage)}{(coverage < least ? " ⚠" : "")} | {F4(least)} | {G4(width)} | " +
                                $"{F4(set.Average(r => r.SplitConformalCoverage))} | {G4(baselineWidth)} | {F2(width / baselineWidth)} | " +
                                $"{F4(set.Average(r => r.AdaptiveCoverage))} | {F2(set.Average(r => r.AdaptiveWidth) / baselineWidth)} |");
            }
            double pooled = withIntervals.Sum(r => r.IntervalCoverage * r.TestRows) / withIntervals.Sum(r => r.TestRows);
            double pooledBaseline = withIntervals.Sum(r => r.SplitConformalCoverage * r.TestRows) / withIntervals.Sum(r => r.TestRows);
            text.AppendLine();
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"Pooled over {withIntervals.Count} fits ({withIntervals.Sum(r => r.TestRows)} test rows): coverage {pooled:F4} (split-conformal baseline {pooledBaseline:F4})."));
            text.AppendLine();
        }
    }

    private static string G4(double value) => double.IsNaN(value) ? "–" : value.ToString("G4", CultureInfo.InvariantCulture);

    public string Render(int splits)
    {
        var text = new StringBuilder();
        foreach (SuiteTask task in Enum.GetValues<SuiteTask>())
        {
            var sets = _dataSets.Where(d => d.Task == task && (_peers.ContainsKey(d.Name) || _candidates.Any(c => c.Scores.ContainsKey(d.Name)))).ToList();
            if (sets.Count == 0)
                continue;
            string metric = task == SuiteTask.Regression ? "R²" : "accuracy";
            var peerModels = sets.SelectMany(d => Peers(d.Name).Keys).Distinct().OrderBy(PeerOrder).ThenBy(m => m, StringComparer.Ordinal).ToList();
            text.AppendLine(CultureInfo.InvariantCulture, $"## {task}: test {metric}, mean over {splits} splits (rank among the reference models in parentheses)");
            text.AppendLine();
            text.AppendLine("| data set | training rows | " + string.Join(" | ", peerModels) + " | " + string.Join(" | ", _candidates.Select(c => c.Run)) + " |");
            text.AppendLine("|---|---|" + string.Concat(Enumerable.Repeat("---|", peerModels.Count + _candidates.Count)));
            foreach (var (name, _, rows) in sets)
            {
                var peers = Peers(name);
                var cells = peerModels.Select(m => peers.TryGetValue(m, out var s) ? F4(s.Metric) : "–");
                var candidateCells = _candidates.Select(c => c.Scores.TryGetValue(name, out var s)
                    ? $"{F4(s.Metric)} ({F1(RankAmong(s.Metric, peers.Values.Select(p => p.Metric)))}){Incomplete(s, splits)}"
                    : "–");
                text.AppendLine($"| {name} | {rows} | " + string.Join(" | ", cells) + " | " + string.Join(" | ", candidateCells) + " |");
            }
            text.AppendLine();

            text.AppendLine("Candidates per data set: fit seconds (mean per fit), kept epoch (mean), difference from the linear baseline" +
                            (task == SuiteTask.Regression ? "" : ", test log-loss (natural log)") + "; fit seconds of some reference models:");
            text.AppendLine();
            string linear = task == SuiteTask.Regression ? "sk:ridge" : "sk:logreg";
            var timedPeers = new[] { "LightGbm", "FastTree", task == SuiteTask.Regression ? "sk:krr_rbf_cv" : "sk:svc_rbf_cv" }.Where(peerModels.Contains).ToList();
            text.AppendLine("| data set | " + string.Join(" | ", _candidates.Select(c => $"{c.Run} s | epoch | − {linear}" + (task == SuiteTask.Regression ? "" : " | log-loss")))
                            + " | " + string.Join(" | ", timedPeers.Select(p => p + " s")) + " |");
            int columns = _candidates.Count * (task == SuiteTask.Regression ? 3 : 4) + timedPeers.Count;
            text.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---|", columns)));
            foreach (var (name, _, _) in sets)
            {
                var peers = Peers(name);
                var cells = new List<string>();
                foreach (var (_, scores) in _candidates)
                {
                    if (!scores.TryGetValue(name, out var s))
                    {
                        cells.AddRange(Enumerable.Repeat("–", task == SuiteTask.Regression ? 3 : 4));
                        continue;
                    }
                    double gap = peers.TryGetValue(linear, out var l) ? s.Metric - l.Metric : double.NaN;
                    cells.Add(F1(s.FitSeconds));
                    cells.Add(F1(s.SelectedEpoch));
                    cells.Add(SignedF4(gap) + (gap < -0.02 ? " ⚠" : ""));
                    if (task != SuiteTask.Regression)
                        cells.Add(F4(s.LogLoss));
                }
                cells.AddRange(timedPeers.Select(p => peers.TryGetValue(p, out var s) ? F2(s.FitSeconds) : "–"));
                text.AppendLine($"| {name} | " + string.Join(" | ", cells) + " |");
            }
            text.AppendLine();

            text.AppendLine($"Mean rank ({task}; each candidate ranked with the reference models; smaller = under {SmallerDataSetRows} training rows):");
            text.AppendLine();
            text.AppendLine("| candidate | data sets | mean rank, all | smaller | larger | best reference model, all (mean rank) | best reference, smaller | best reference, larger |");
            text.AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var (run, scores) in _candidates)
            {
                var covered = sets.Where(d => scores.ContainsKey(d.Name)).ToList();
                if (covered.Count == 0)
                    continue;
                var all = MeanRanks(run, scores, covered);
                var smaller = MeanRanks(run, scores, covered.Where(d => d.TrainingRows < SmallerDataSetRows).ToList());
                var larger = MeanRanks(run, scores, covered.Where(d => d.TrainingRows >= SmallerDataSetRows).ToList());
                text.AppendLine($"| {run} | {covered.Count} | {F2(Get(all, run))} | {F2(Get(smaller, run))} | {F2(Get(larger, run))} | {BestOther(all, run)} | {BestOther(smaller, run)} | {BestOther(larger, run)} |");
            }
            text.AppendLine();
        }
        RenderIntervals(text);
        return text.ToString();
    }

    /// <summary>Mean rank of every model over the data sets, each data set ranking the reference models and this candidate.</summary>
    private Dictionary<string, double> MeanRanks(string run, Dictionary<string, SuiteScore> scores, IReadOnlyList<(string Name, SuiteTask Task, int TrainingRows)> sets)
    {
        var sums = new Dictionary<string, (double Sum, int Count)>(StringComparer.Ordinal);
        foreach (var (name, _, _) in sets)
        {
            var models = Peers(name).ToDictionary(kv => kv.Key, kv => kv.Value.Metric, StringComparer.Ordinal);
            models[run] = scores[name].Metric;
            foreach (var (model, value) in models)
            {
                double rank = RankAmong(value, models.Where(kv => kv.Key != model).Select(kv => kv.Value));
                var (sum, count) = sums.GetValueOrDefault(model);
                sums[model] = (sum + rank, count + 1);
            }
        }
        // A model missing on some data sets (a reference row absent there) is averaged over the data sets it has.
        return sums.ToDictionary(kv => kv.Key, kv => kv.Value.Sum / kv.Value.Count, StringComparer.Ordinal);
    }

    /// <summary>
    /// Decimals at which metrics are compared: those of <c>peers.txt</c> and of the printed tables. A candidate's mean over the
    /// splits is a full double, so compared unrounded a tie with a reference model (the same test rows right) fell on
    /// either side by rounding noise: iris 0.9400 ranked 6th behind four models printed 0.9400.
    /// </summary>
    public const int ComparedDecimals = 4;

    /// <summary>1 + the number of others better, + half the number tied (the mean rank of a tie), at <see cref="ComparedDecimals"/>.</summary>
    public static double RankAmong(double value, IEnumerable<double> others)
    {
        double rank = 1;
        double compared = Math.Round(value, ComparedDecimals);
        foreach (double other in others)
        {
            double otherCompared = Math.Round(other, ComparedDecimals);
            if (otherCompared > compared)
                rank += 1;
            else if (otherCompared == compared)
                rank += 0.5;
        }
        return rank;
    }

    private static double Get(Dictionary<string, double> ranks, string model) => ranks.TryGetValue(model, out double r) ? r : double.NaN;

    private static string BestOther(Dictionary<string, double> ranks, string run)
    {
        var best = ranks.Where(kv => kv.Key != run).OrderBy(kv => kv.Value).FirstOrDefault();
        return best.Key is null ? "–" : $"{best.Key} ({F2(best.Value)})";
    }

    private static SuiteScore Mean(IEnumerable<SuiteFitResult> results)
    {
        var list = results.ToList();
        return new SuiteScore(list.Average(r => r.Metric), list.Average(r => r.LogLoss), list.Average(r => r.FitSeconds), list.Count, list.Average(r => r.SelectedEpoch));
    }

    private Dictionary<string, SuiteScore> Peers(string dataSet)
    {
        if (!_peers.TryGetValue(dataSet, out var peers))
            _peers[dataSet] = peers = new Dictionary<string, SuiteScore>(StringComparer.Ordinal);
        return peers;
    }

    /// <summary>scikit-learn's models first, then ML.NET's.</summary>
    private static int PeerOrder(string model) => model.StartsWith("sk:", StringComparison.Ordinal) ? 0 : 1;

    private static string Incomplete(SuiteScore score, int splits) => score.Splits < splits ? $" [{score.Splits} of {splits}]" : "";

    private static string F4(double value) => double.IsNaN(value) ? "–" : value.ToString("F4", CultureInfo.InvariantCulture);

    private static string SignedF4(double value) => double.IsNaN(value) ? "–" : value.ToString("+0.0000;−0.0000;0.0000", CultureInfo.InvariantCulture);

    private static string F2(double value) => double.IsNaN(value) ? "–" : value.ToString("F2", CultureInfo.InvariantCulture);

    private static string F1(double value) => double.IsNaN(value) ? "–" : value.ToString("F1", CultureInfo.InvariantCulture);
}
