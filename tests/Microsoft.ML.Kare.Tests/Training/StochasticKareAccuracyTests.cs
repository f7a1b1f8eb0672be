using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System;
using Microsoft.ML.Kare.Examples;
using Microsoft.ML.Kare.Scoring;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Training;

/// <summary>
/// The stochastic KARE gradient (Hutchinson probes for A², <see cref="KareFitSettings.StochasticProbes"/>) must train a
/// kernel as good as the exact gradient does: on the paper's simulation (γ = 1, σ = 0, 800 training and 200 test rows,
/// depth 1 width 64, the regression trainer's defaults: full batch, 100 epochs of SGD at rate 20, z = 0.1), the
/// stochastic median test MSE over seeds 1–5 must stay within <see cref="RelativeTolerance"/> × the exact one plus
/// <see cref="AbsoluteTolerance"/>.
/// </summary>
/// <remarks>
/// The ridge is chosen by generalised cross-validation, so both fits keep the kernel of the last epoch: a biased or
/// broken stochastic gradient cannot hide behind an early epoch picked on held-out rows (the default hold-out choice
/// can fall back to the kernel at initialisation), and the fit is about twice as fast.
/// Tolerance. Some seeds end in kernels whose error swings by 2× or more with any change of the trajectory, even with
/// the memory layout that earlier work in the process leaves (MKL picks kernels by alignment): seed 1's exact error was
/// 0.0067, 0.0172 and 0.0188 in three processes. So the test compares medians over five seeds, which one such seed
/// cannot move. Measured here (per-seed test MSE, 2026-11-23, seeds 1–5): exact 0.01881, 0.00002, 0.00174, 0.17128,
/// 0.00123 (median 0.00174); 64 probes 0.01180, 0.00004, 0.00123, 0.02191, 0.00048 (median 0.00123); the bound is
/// 1.5 × 0.00174 + 0.001 = 0.0036. A broken gradient fails it: the probe term of A² with its sign flipped gave median
/// 0.02030 (0.05100, 0.00009, 0.00282, 0.12573, 0.02030). A mild bias does not (the probe term doubled: median 0.00245),
/// which is why the estimator's mean is checked against the exact gradient directly
/// (<see cref="KareStepEngineTests.StochasticGradientIsUnbiased"/>).
/// The hold-out selection was tried too and could not tell a biased gradient apart (it falls back to earlier epochs),
/// hence GCV.
/// </remarks>
[TestClass]
public sealed class StochasticKareAccuracyTests
{
    private const int TrainRows = 800;
    private const int TestRows = 200;
    private const int Probes = 64;
    private const double RelativeTolerance = 1.5;
    private const double AbsoluteTolerance = 0.001;
    private static readonly int[] Seeds = { 1, 2, 3, 4, 5 };

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [TestCategory("Accuracy")]
    public void StochasticGradientReachesExactTestError()
    {
        var exact = new List<double>();
        var stochastic = new List<double>();
        var seconds = new double[2];
        foreach (int seed in Seeds)
        {
            List<SimulationRow> rows = PaperSimulation.Generate(TrainRows + TestRows, gamma: 1.0, sigma: 0.0, seed: 1000 + seed);
            exact.Add(TestError(rows, seed, probes: 0, ref seconds[0]));
            stochastic.Add(TestError(rows, seed, Probes, ref seconds[1]));
        }

        double exactMedian = Median(exact);
        double stochasticMedian = Median(stochastic);
        string report = string.Create(CultureInfo.InvariantCulture,
            $"median test MSE over seeds {string.Join(",", Seeds)}: exact {exactMedian:F5} [{Join(exact)}] in {seconds[0]:F1} s, " +
            $"{Probes} probes {stochasticMedian:F5} [{Join(stochastic)}] in {seconds[1]:F1} s");
        TestContext.WriteLine(report);
        // The comparison means something only if exact training works here: well below predicting zero (about 0.18).
        Assert.IsLessThan(0.02, exactMedian, report);
        Assert.IsLessThanOrEqualTo(RelativeTolerance * exactMedian + AbsoluteTolerance, stochasticMedian, report);
    }

    private static double TestError(List<SimulationRow> rows, int seed, int probes, ref double seconds)
    {
        int d = SimulationRow.FeatureCount;
        List<SimulationRow> train = rows.Take(TrainRows).ToList();
        var data = new KareTrainingData(
            train.SelectMany(r => r.Features.Select(v => (double)v)).ToArray(), TrainRows, d,
            train.Select(r => (double)r.Label).ToArray(), 1, null);
        var options = new KareRegressionTrainer.Options { RidgeSelection = KareRidgeSelection.GeneralizedCrossValidation };
        KareFitSettings settings = KareTraining.CreateSettings(options, seed) with { StochasticProbes = probes };
        long start = Stopwatch.GetTimestamp();
        KareFitResult result = KareFitter.Fit(data, settings, new RecordingMonitor());
        seconds += Stopwatch.GetElapsedTime(start).TotalSeconds;

        var scorer = new PrimalScorer(result.Architecture, result.Parameters, result.PrimalWeights, result.FeatureMeans,
            result.FeatureScales, result.TargetMeans!, result.TargetScales!, featureCompressionScales: result.FeatureCompressionScales);
        var output = new float[1];
        double sum = 0;
        foreach (SimulationRow row in rows.Skip(TrainRows))
        {
            scorer.Score(row.Features, output);
            double error = output[0] - (double)row.Label;
            sum += error * error;
        }
        return sum / TestRows;
    }

    private static double Median(List<double> values)
    {
        double[] sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
    }

    private static string Join(IEnumerable<double> values)
        => string.Join(", ", values.Select(v => v.ToString("F5", CultureInfo.InvariantCulture)));
}
