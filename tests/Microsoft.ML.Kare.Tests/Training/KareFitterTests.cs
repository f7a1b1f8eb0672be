using System.Linq;
using System;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.Kare.Kernels;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.Scoring;
using Microsoft.ML.Kare.Solvers;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Tests.Training;

/// <summary>
/// The whole backend on small problems (n ≤ 100, a few epochs): weights, degenerate data, and the final KRR step
/// against an independent reconstruction.
/// </summary>
[TestClass]
public sealed class KareFitterTests
{
    private const int FeatureCount = 5;
    private static readonly double[] Grid = Dense.LogSpace(1e-6, 10, 15);

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void AllWeightsTwoGiveTheSameModelAsNoWeights()
    {
        var (x, y) = Simulation(80, seed: 1);
        KareFitResult unweighted = Fit(x, y, null, Settings());
        KareFitResult weighted = Fit(x, y, Enumerable.Repeat(2.0, 80).ToArray(), Settings());

        Assert.AreEqual(unweighted.SelectedEpoch, weighted.SelectedEpoch);
        Assert.AreEqual(unweighted.RelativeRidge, weighted.RelativeRidge);
        Dense.AssertWithin(Dense.RelativeError(unweighted.Parameters, weighted.Parameters), 1e-12, "θ", TestContext);
        // Normalised weights are exactly 1, but the weighted path multiplies by S = I, which can change libtorch's
        // summation order: β agrees to rounding (measured 1.6e-12), the float scores exactly.
        Dense.AssertWithin(Dense.RelativeError(unweighted.PrimalWeights, weighted.PrimalWeights), 1e-10, "β", TestContext);
        float[][] rows = TestRows(x, 20, seed: 2);
        Dense.AssertWithin(Dense.RelativeError(AsDoubles(Scores(unweighted, rows)), AsDoubles(Scores(weighted, rows))), 0, "scores", TestContext);
    }

    /// <summary>
    /// Integer weights are not row counts by design: they are normalised to mean 1 (so all-2 equals none), the hold-out
    /// split and mini-batches differ, and the relative ridge maps through n. The final KRR step on a fixed kernel is
    /// exactly weighted KRR, though: with the same absolute λ, S K S weighting equals duplicating rows.
    /// </summary>
    [TestMethod]
    public void FinalKrrWithIntegerWeightsEqualsKrrOnDuplicatedRows()
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(12);
        const int n = 24;
        var (x, y) = Simulation(n, seed: 3);
        int[] counts = Enumerable.Range(0, n).Select(_ => random.Next(1, 4)).ToArray();
        int total = counts.Sum();
        double[] normalized = counts.Select(c => c * n / (double)total).ToArray(); // mean 1, as KareFitter does
        double[] features = Dense.RowMajor(x);
        double[] targets = Dense.RowMajor(y);
        Matrix<double> testX = Dense.Gaussian(7, FeatureCount, random);

        var architecture = new KareNetworkArchitecture(FeatureCount, new[] { 12, 6 }, KareActivation.Gelu);
        using MlpNetwork network = MlpNetwork.Initialize(architecture, random);
        using var noGrad = torch.no_grad();
        NetworkFeatures testFeatures = network.Features(Dense.ToTensor(testX));

        using var weightedRows = new RowSet(features, targets, normalized, FeatureCount, 1, Enumerable.Range(0, n).ToArray());
        NetworkFeatures weightedFeatures = network.Features(weightedRows.Features);
        Tensor weightedKernel = weightedRows.WeightKernel(StructuredNtk.Compute(weightedFeatures, weightedFeatures));

        using var duplicatedRows = new RowSet(features, targets, null, FeatureCount, 1, Reference.RepeatIndices(counts));
        NetworkFeatures duplicatedFeatures = network.Features(duplicatedRows.Features);
        Tensor duplicatedKernel = StructuredNtk.Compute(duplicatedFeatures, duplicatedFeatures);

        double ridge = RelativeRidge.ToAbsolute(1e-2, duplicatedKernel);
        // The same relative ridge gives an absolute ridge larger by n_dup/n with normalised weights.
        Assert.AreEqual(ridge * total / n, RelativeRidge.ToAbsolute(1e-2, weightedKernel), 1e-12 * ridge * total / n);

        Tensor weightedAlpha = KernelRidge.DualWeights(weightedKernel, weightedRows.WeightedTargets, ridge);
        Tensor duplicatedAlpha = KernelRidge.DualWeights(duplicatedKernel, duplicatedRows.WeightedTargets, ridge);
        Matrix<double> weightedPrediction = Dense.ToMatrix(StructuredNtk.Compute(testFeatures, weightedFeatures).mm(weightedRows.WeightRows(weightedAlpha)));
        Matrix<double> viaColumns = Dense.ToMatrix(weightedRows.WeightColumns(StructuredNtk.Compute(testFeatures, weightedFeatures)).mm(weightedAlpha));
        Matrix<double> duplicatedPrediction = Dense.ToMatrix(StructuredNtk.Compute(testFeatures, duplicatedFeatures).mm(duplicatedAlpha));

        Dense.AssertWithin(Dense.RelativeError(duplicatedPrediction, weightedPrediction), 1e-9, "weighted KRR vs duplicated rows", TestContext);
        Dense.AssertWithin(Dense.RelativeError(weightedPrediction, viaColumns), 1e-13, "K·(Sα) vs (K S)·α", TestContext);
        // And the primal weights the fitter stores, Jᵀ S α, predict the same through the managed scorer.
        double[] beta = StructuredNtk.TransposedJacobianTimes(weightedFeatures, weightedRows.WeightRows(weightedAlpha));
        var scorer = new PrimalScorer(architecture, network.GetParameters(), beta, new double[FeatureCount],
            Enumerable.Repeat(1.0, FeatureCount).ToArray(), new[] { 0.0 }, new[] { 1.0 });
        var output = new float[1];
        for (int i = 0; i < testX.RowCount; i++)
        {
            // The scorer takes float features: compare on the float-rounded row.
            float[] row = testX.Row(i).Select(v => (float)v).ToArray();
            NetworkFeatures rounded = RoundedFeatures(network, row);
            double expected = Dense.ToMatrix(StructuredNtk.Compute(rounded, duplicatedFeatures).mm(duplicatedAlpha))[0, 0];
            scorer.Score(row, output);
            Assert.AreEqual(expected, output[0], 1e-6 * Math.Max(1, Math.Abs(expected)), $"row {i}");
        }
    }

    [TestMethod]
    [DataRow(KareRidgeSelection.HoldOut)]
    [DataRow(KareRidgeSelection.GeneralizedCrossValidation)]
    public void ConstantTargetGivesAFiniteModelPredictingTheConstant(KareRidgeSelection selection)
    {
        var (x, _) = Simulation(60, seed: 4);
        Matrix<double> y = Matrix<double>.Build.Dense(60, 1, 3.7);
        var monitor = new RecordingMonitor();
        KareFitResult result = Fit(x, y, null, Settings(selection), monitor);

        Assert.IsTrue(result.Parameters.All(double.IsFinite) && result.PrimalWeights.All(double.IsFinite));
        Assert.AreEqual(1.0, result.TargetScales[0], "a constant target standardises with scale 1");
        float[] scores = Scores(result, TestRows(x, 15, seed: 5));
        foreach (float s in scores)
            Assert.AreEqual(3.7f, s, 1e-6f);
        Assert.IsTrue(monitor.Epochs.All(e => double.IsFinite(e.Kare)), "ρ finite at every epoch");
    }

    [TestMethod]
    public void HugeFeatureMagnitudesGiveTheModelOfUnitFeatures()
    {
        var (x, y) = Simulation(80, seed: 6);
        Matrix<double> huge = x * 1e12;
        huge.SetColumn(FeatureCount - 1, huge.Column(FeatureCount - 1) + 3e12); // large offset too
        KareFitResult unit = Fit(x, y, null, Settings());
        KareFitResult big = Fit(huge, y, null, Settings());

        Assert.IsTrue(big.Parameters.All(double.IsFinite) && big.PrimalWeights.All(double.IsFinite));
        Assert.AreEqual(unit.RelativeRidge, big.RelativeRidge);
        Assert.AreEqual(unit.SelectedEpoch, big.SelectedEpoch);
        Dense.AssertWithin(Dense.RelativeError(unit.PrimalWeights, big.PrimalWeights), 1e-8, "β with features ×1e12 vs unit features", TestContext);

        float[][] unitRows = TestRows(x, 15, seed: 7);
        float[][] hugeRows = unitRows.Select(r => r.Select((v, j) => (float)(v * 1e12 + (j == FeatureCount - 1 ? 3e12 : 0))).ToArray()).ToArray();
        float[] expected = Scores(unit, unitRows);
        float[] actual = Scores(big, hugeRows);
        Assert.IsTrue(actual.All(float.IsFinite));
        // Float features of size 1e12 carry ~1e-7 relative rounding; after standardisation that is the score's noise.
        Dense.AssertWithin(Dense.RelativeError(AsDoubles(expected), AsDoubles(actual)), 1e-5,
            "scores with features ×1e12 vs unit features", TestContext);
    }

    [TestMethod]
    [DataRow(KareRidgeSelection.HoldOut)]
    [DataRow(KareRidgeSelection.GeneralizedCrossValidation)]
    public void DuplicateRowsGiveAFiniteModel(KareRidgeSelection selection)
    {
        var (unique, y) = Simulation(40, seed: 8);
        Matrix<double> x = unique.Stack(unique);
        Matrix<double> targets = y.Stack(y);
        KareFitResult result = Fit(x, targets, null, Settings(selection));

        Assert.IsTrue(result.Parameters.All(double.IsFinite) && result.PrimalWeights.All(double.IsFinite));
        float[] scores = Scores(result, TestRows(unique, 40, seed: 0, jitter: 0));
        Assert.IsTrue(scores.All(float.IsFinite));
        // It fits something: training-row error below the target variance.
        double mse = scores.Select((s, i) => (s - y[i, 0]) * (s - y[i, 0])).Average();
        double variance = y.Column(0).Select(v => v - y.Column(0).Average()).Select(v => v * v).Average();
        TestContext.WriteLine($"training MSE {mse:G4}, target variance {variance:G4}");
        Assert.IsLessThan(variance, mse);
    }

    /// <summary>
    /// With GCV selection the final fit is exactly: λ̃ = argmin over the grid of ρ on the frozen kernel of all rows,
    /// λ = λ̃·Tr(K)/n², predictions = mean + scale·K(z, Z)(K + nλI)⁻¹ỹ. Rebuilt here from θ alone with the autograd
    /// Jacobian kernel and the direct formulas.
    /// </summary>
    [TestMethod]
    [DataRow(false, 0)]
    [DataRow(true, 0)]
    [DataRow(true, 20)]
    public void FinalFitIsKernelRidgeOnTheFrozenKernelWithGcvRidge(bool weighted, int kernelTrainingRows)
    {
        using var scope = torch.NewDisposeScope();
        const int n = 50;
        var (x, y) = Simulation(n, seed: 9);
        y = y * 4 + 2;
        var random = new Random(10);
        double[]? weights = weighted ? Enumerable.Range(0, n).Select(_ => 0.5 + random.NextDouble()).ToArray() : null;
        KareFitSettings settings = Settings(KareRidgeSelection.GeneralizedCrossValidation) with { MaximumKernelTrainingRows = kernelTrainingRows };
        KareFitResult result = Fit(x, y, weights, settings);
        Assert.AreEqual(Settings().Epochs, result.SelectedEpoch, "GCV keeps the last epoch");
        if (kernelTrainingRows > 0) // the network trained on 20 of the rows; the ridge regression below is still on all 50
            Assert.AreNotEqual(Fit(x, y, weights, settings with { MaximumKernelTrainingRows = 0 }).Parameters[0], result.Parameters[0]);

        double meanWeight = weights?.Average() ?? 1;
        Vector<double> s = Vector<double>.Build.Dense(n, i => weights is null ? 1 : Math.Sqrt(weights[i] / meanWeight));
        Matrix<double> z = Matrix<double>.Build.Dense(n, FeatureCount, (i, j) => (x[i, j] - result.FeatureMeans[j]) / result.FeatureScales[j]);
        Matrix<double> yStd = (y - result.TargetMeans[0]) / result.TargetScales[0];
        using MlpNetwork network = MlpNetwork.FromParameters(new KareNetworkArchitecture(FeatureCount, Settings().HiddenWidths, KareActivation.Gelu), result.Parameters);
        Matrix<double> jacobian = Reference.Jacobian(network, z);
        Matrix<double> sMatrix = Matrix<double>.Build.DiagonalOfDiagonalVector(s);
        Matrix<double> kernel = sMatrix * jacobian * jacobian.Transpose() * sMatrix;
        Matrix<double> targets = sMatrix * yStd;

        double[] rho = Grid.Select(r => Reference.RhoRelative(kernel, targets, r)).ToArray();
        Assert.AreEqual(Grid[Dense.ArgMin(rho)], result.RelativeRidge, "λ̃ is the grid argmin of ρ (= GCV)");
        Assert.AreEqual(Reference.Ridge(kernel, result.RelativeRidge), result.Ridge, 1e-10 * result.Ridge, "λ = λ̃·Tr(K)/n²");

        Matrix<double> alpha = sMatrix * (kernel + n * result.Ridge * Matrix<double>.Build.DenseIdentity(n)).Solve(targets);
        Matrix<double> expectedBeta = jacobian.Transpose() * alpha;
        Dense.AssertWithin(Dense.RelativeError(expectedBeta.Column(0).ToArray(), result.PrimalWeights), 1e-8, $"β = Jᵀ S α (weighted={weighted})", TestContext);

        float[][] rows = TestRows(x, 12, seed: 11);
        Matrix<double> testZ = Matrix<double>.Build.Dense(rows.Length, FeatureCount, (i, j) => (rows[i][j] - result.FeatureMeans[j]) / result.FeatureScales[j]);
        Matrix<double> dual = Reference.Jacobian(network, testZ) * jacobian.Transpose() * alpha;
        float[] scores = Scores(result, rows);
        for (int i = 0; i < rows.Length; i++)
        {
            double expected = result.TargetMeans[0] + result.TargetScales[0] * dual[i, 0];
            Assert.AreEqual(expected, scores[i], 2e-7 * Math.Max(1, Math.Abs(expected)), $"row {i}");
        }
    }

    [TestMethod]
    public void HoldOutKeepsTheEpochAndRidgeWithTheLowestValidationError()
    {
        var (x, y) = Simulation(100, seed: 13);
        var monitor = new RecordingMonitor();
        KareFitResult result = Fit(x, y, null, Settings(epochs: 4), monitor);

        Assert.HasCount(5, result.TrainingCurve);
        Assert.IsTrue(result.TrainingCurve.All(e => double.IsFinite(e.Kare) && double.IsFinite(e.ValidationError)));
        int best = Dense.ArgMin(result.TrainingCurve.Select(e => e.ValidationError).ToArray());
        Assert.AreEqual(best, result.SelectedEpoch);
        Assert.AreEqual(result.TrainingCurve[best].ValidationRelativeRidge, result.RelativeRidge);
        Assert.IsEmpty(monitor.Warnings, string.Join("; ", monitor.Warnings));
        TestContext.WriteLine(string.Join(Environment.NewLine, result.TrainingCurve));
    }

    /// <summary>
    /// The relevance screen reads the labels of the rows that train the kernel only: new labels on the held-out rows
    /// (the rows whose error chooses the epoch and λ̃) leave the model's scales as they were; new labels on as many
    /// training rows move them.
    /// </summary>
    [TestMethod]
    public void TheRelevanceScreenDoesNotReadTheHeldOutLabels()
    {
        const int n = 120;
        var (x, y) = Simulation(n, seed: 21);
        KareFitSettings settings = Settings(epochs: 0) with { RelevanceWeighting = KareRelevanceWeighting.AllInputs };
        FitPlan plan = FitPlan.Create(n, FeatureCount, 1, settings);
        int[] order = KareFitter.Permutation(n, new Random(settings.Seed));
        Matrix<double> Relabelled(int[] rows)
        {
            Matrix<double> labels = y.Clone();
            foreach (int row in rows)
                labels[row, 0] = 5 * x[row, FeatureCount - 1]; // the last input's relevance changes with these rows
            return labels;
        }
        double[] scales = Fit(x, y, null, settings).FeatureScales;
        double[] heldOutRelabelled = Fit(x, Relabelled(order[..plan.ValidationRows]), null, settings).FeatureScales;
        double[] trainingRelabelled = Fit(x, Relabelled(order[plan.ValidationRows..(2 * plan.ValidationRows)]), null, settings).FeatureScales;

        // The targets are standardised over all rows, so new held-out labels change the screen's inputs by an affine map
        // that leaves correlation ratios unchanged but not their last bits.
        for (int j = 0; j < FeatureCount; j++)
            Assert.AreEqual(scales[j], heldOutRelabelled[j], 1e-12 * scales[j], $"input {j}");
        Assert.AreNotEqual(scales[FeatureCount - 1], trainingRelabelled[FeatureCount - 1], 1e-3, "the control: training labels do move the weights");
    }

    // ----- helpers -----

    private static KareFitSettings Settings(KareRidgeSelection selection = KareRidgeSelection.HoldOut, int epochs = 3) => new()
    {
        HiddenWidths = new[] { 16 },
        Activation = KareActivation.Gelu,
        Epochs = epochs,
        LearningRate = 10,
        Optimizer = KareOptimizer.Sgd,
        RelativeRidgeGrid = Grid,
        RidgeSelection = selection,
        Seed = 3,
    };

    private static KareFitResult Fit(Matrix<double> x, Matrix<double> y, double[]? weights, KareFitSettings settings, RecordingMonitor? monitor = null)
    {
        var data = new KareTrainingData(Dense.RowMajor(x), x.RowCount, x.ColumnCount, Dense.RowMajor(y), y.ColumnCount, weights);
        return KareFitter.Fit(data, settings, monitor ?? new RecordingMonitor());
    }

    /// <summary>The paper's simulation (docs/maths.md, "The KARE procedure"): y = cos(Xw)/(1 + exp(Xw)) + 0.1ε, X ~ N(0, I).</summary>
    private static (Matrix<double> X, Matrix<double> Y) Simulation(int n, int seed)
    {
        var random = new Random(seed);
        Matrix<double> x = Dense.Gaussian(n, FeatureCount, random);
        Vector<double> w = Dense.Gaussian(FeatureCount, 1, random).Column(0);
        Vector<double> noise = Dense.Gaussian(n, 1, random, 0.1).Column(0);
        Vector<double> xw = x * w;
        return (x, Matrix<double>.Build.Dense(n, 1, (i, _) => Math.Cos(xw[i]) / (1 + Math.Exp(xw[i])) + noise[i]));
    }

    /// <summary>Float rows near the training rows (row i of x plus a small jitter).</summary>
    private static float[][] TestRows(Matrix<double> x, int count, int seed, double jitter = 0.3)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(i => Enumerable.Range(0, x.ColumnCount).Select(j => (float)(x[i % x.RowCount, j] + jitter * (2 * random.NextDouble() - 1))).ToArray())
            .ToArray();
    }

    private static float[] Scores(KareFitResult result, float[][] rows)
    {
        var scorer = new PrimalScorer(result.Architecture, result.Parameters, result.PrimalWeights,
            result.FeatureMeans, result.FeatureScales, result.TargetMeans, result.TargetScales, featureCompressionScales: result.FeatureCompressionScales);
        var output = new float[1];
        return rows.Select(r =>
        {
            scorer.Score(r, output);
            return output[0];
        }).ToArray();
    }

    private static double[] AsDoubles(float[] values) => values.Select(v => (double)v).ToArray();

    private static NetworkFeatures RoundedFeatures(MlpNetwork network, float[] row)
        => network.Features(torch.tensor(row.Select(v => (double)v).ToArray(), new long[] { 1, row.Length }, ScalarType.Float64));
}
