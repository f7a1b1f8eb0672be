using System.Linq;
using System;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Tests.Training;

/// <summary>
/// The mean-field two-timescale backend (docs/maths.md, "Mean-field two-timescale") against independent computations: the second layer against a
/// direct MathNet solve of its normal equations, the first-variation force against finite differences of the objective,
/// and the dynamics' basic behaviour (descent without noise, seeding, divergence).
/// </summary>
[TestClass]
public sealed class MeanFieldTwoTimescaleTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(12, 30, DisplayName = "kernel space (n ≤ m)")]
    [DataRow(40, 9, DisplayName = "parameter space (n > m)")]
    public void SecondLayerEqualsTheDirectRidgeSolution(int n, int m)
    {
        var random = new Random(3);
        Matrix<double> hidden = Dense.Gaussian(n, m, random).Map(Math.Tanh);
        Vector<double> y = Dense.Gaussian(n, 1, random).Column(0);
        const double ridge = 0.07;

        // Minimiser of (1/2n)‖Ψa/m − y‖² + (λ/2m)‖a‖²: (ΨᵀΨ/(n m²) + (λ/m) I) a = Ψᵀy/(n m).
        Matrix<double> normal = hidden.TransposeThisAndMultiply(hidden) / (n * (double)m * m)
            + Matrix<double>.Build.DenseIdentity(m) * (ridge / m);
        Vector<double> expected = normal.Solve(hidden.TransposeThisAndMultiply(y) / (n * (double)m));

        using var scope = torch.NewDisposeScope();
        Tensor actual = MeanFieldTwoTimescale.SecondLayer(Dense.ToTensor(hidden), Dense.ToTensor(y), ridge);
        Dense.AssertWithin(Dense.RelativeError(expected.ToArray(), actual.data<double>().ToArray()), 1e-9, "second layer vs direct solve", TestContext);
    }

    [TestMethod]
    public void FirstVariationForceMatchesFiniteDifferencesOfTheObjective()
    {
        const int n = 9, m = 5, d = 3;
        const double ridge = 0.05, weightDecay = 0.3, h = 1e-5;
        var random = new Random(7);
        double[] features = Dense.Gaussian(n, d, random).ToRowMajorArray();
        double[] firstLayer = Dense.Gaussian(m, d + 1, random).ToRowMajorArray();
        double[] targets = Dense.Gaussian(n, 1, random).Column(0).ToArray();

        using var scope = torch.NewDisposeScope();
        Tensor inputs = MeanFieldTwoTimescale.AugmentedInputs(features, n, d);
        Tensor y = torch.tensor(targets, ScalarType.Float64);
        Tensor w = torch.tensor(firstLayer, new long[] { m, d + 1 }, ScalarType.Float64);
        var (hidden, slope) = TorchActivations.Apply(KareActivation.Tanh, inputs.mm(w.t()));
        Tensor a = MeanFieldTwoTimescale.SecondLayer(hidden, y, ridge);
        Tensor residual = hidden.mv(a).div(m).sub(y);
        double[] force = (MeanFieldTwoTimescale.FirstVariationGradient(inputs, slope, a, residual) + weightDecay * w)
            .contiguous().data<double>().ToArray();

        // G(W) = min_a J(a, W), the second layer re-optimised at every perturbed W; the particle force is m·∂G/∂w_j.
        double Objective(double[] parameters)
        {
            using var inner = torch.NewDisposeScope();
            Tensor perturbed = torch.tensor(parameters, new long[] { m, d + 1 }, ScalarType.Float64);
            Tensor activations = inputs.mm(perturbed.t()).tanh();
            return MeanFieldTwoTimescale.OptimalObjective(activations, y, perturbed, ridge, weightDecay);
        }
        var numeric = new double[firstLayer.Length];
        for (int i = 0; i < firstLayer.Length; i++)
        {
            double[] plus = (double[])firstLayer.Clone(), minus = (double[])firstLayer.Clone();
            plus[i] += h;
            minus[i] -= h;
            numeric[i] = m * (Objective(plus) - Objective(minus)) / (2 * h);
        }
        Dense.AssertWithin(Dense.RelativeError(numeric, force), 1e-6, "first-variation force vs finite differences", TestContext);
    }

    [TestMethod]
    public void ZeroTemperatureWithSmallStepsDecreasesTheObjective()
    {
        var settings = SmallSettings(seed: 1) with { Temperature = 0, StepSize = 0.05, StepCount = 200, CurvePointCount = 200 };
        MeanFieldFitResult result = MeanFieldTwoTimescale.Fit(XorProductData(60, 4, seed: 2), settings, new RecordingMonitor());

        double[] objective = result.TrainingCurve.Select(p => p.Objective).ToArray();
        TestContext.WriteLine($"objective {objective[0]:G6} → {objective[^1]:G6}");
        for (int t = 1; t < objective.Length; t++)
            Assert.IsLessThanOrEqualTo(objective[t - 1] + 1e-12, objective[t], $"objective rose at curve point {t}");
        Assert.IsLessThan(objective[0] - 1e-3, objective[^1], "the objective should decrease noticeably");
    }

    /// <remarks>
    /// Bitwise equality is not asserted: libtorch's MKL, outside its conditional numerical reproducibility mode, rounds
    /// some products differently from run to run in one process (measured: 5e-16 relative after 50 steps; identical
    /// with MKL_CBWR=AUTO,STRICT). The tolerance is far below the difference two seeds make.
    /// </remarks>
    [TestMethod]
    public void SameSeedGivesTheSameModelAndDifferentSeedsDiffer()
    {
        KareTrainingData data = XorProductData(40, 3, seed: 5);
        var settings = SmallSettings(seed: 11) with { LabelNoise = 0.1 };
        MeanFieldFitResult first = MeanFieldTwoTimescale.Fit(data, settings, new RecordingMonitor());
        MeanFieldFitResult again = MeanFieldTwoTimescale.Fit(data, settings, new RecordingMonitor());
        MeanFieldFitResult other = MeanFieldTwoTimescale.Fit(data, settings with { Seed = 12 }, new RecordingMonitor());

        Dense.AssertWithin(Dense.RelativeError(first.FirstLayer, again.FirstLayer), 1e-12, "same seed, first layer", TestContext);
        Dense.AssertWithin(Dense.RelativeError(first.SecondLayer, again.SecondLayer), 1e-10, "same seed, second layer", TestContext);
        Assert.IsGreaterThan(0.1, Dense.RelativeError(first.FirstLayer, other.FirstLayer), "different seeds must give different particles");
    }

    [TestMethod]
    public void DivergenceIsReportedWithAdvice()
    {
        var settings = SmallSettings(seed: 0) with { StepSize = 1e6, FirstLayerWeightDecay = 1, StepCount = 200 };
        var ex = Assert.ThrowsExactly<ArithmeticException>(() => MeanFieldTwoTimescale.Fit(XorProductData(20, 3, seed: 0), settings, new RecordingMonitor()));
        StringAssert.Contains(ex.Message, "diverged");
        StringAssert.Contains(ex.Message, "StepSize");
    }

    private static MeanFieldSettings SmallSettings(int seed) => new()
    {
        ParticleCount = 30,
        StepCount = 50,
        StepSize = 0.2,
        Temperature = 0.004,
        FirstLayerWeightDecay = 0.25,
        SecondLayerRidge = 0.01,
        Seed = seed,
        ThreadCount = 1,
    };

    /// <summary>x ~ N(0, I_d), y = x1·x2.</summary>
    internal static KareTrainingData XorProductData(int rows, int features, int seed)
    {
        double[] x = Dense.Gaussian(rows, features, new Random(seed)).ToRowMajorArray();
        double[] y = Enumerable.Range(0, rows).Select(i => x[i * features] * x[i * features + 1]).ToArray();
        return new KareTrainingData(x, rows, features, y, 1, weights: null);
    }
}
