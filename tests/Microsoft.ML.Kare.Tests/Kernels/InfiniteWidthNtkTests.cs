using System.Collections.Generic;
using System.Linq;
using System;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics;
using Microsoft.ML.Kare.Kernels;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Tests.Kernels;

/// <summary>
/// The analytic infinite-width kernels (docs/maths.md, "Infinite-width NTK") against the empirical NTK (J Jᵀ by per-sample autograd) and the
/// readout-layer NNGP of very wide random networks in the same NTK parametrisation, and their Gaussian expectations
/// against Monte Carlo.
/// </summary>
[TestClass]
public sealed class InfiniteWidthNtkTests
{
    private const int InputCount = 3;

    public TestContext TestContext { get; set; } = null!;

    /// <summary>
    /// Θ and Σ of the analytic formulas vs the mean over seeds of a random network's empirical NTK and of its readout
    /// layer's NNGP estimate σ_w²·a_L(x)·a_L(x′)/n_L + β². Both concentrate around the limit with fluctuations of relative
    /// size c/√width (c of order 1 per layer, growing with depth), so the mean over s seeds is within c/√(width·s) plus an
    /// O(1/width) bias. The tolerance 6/√(width·s) (0.032 at depth 1, width 12,000; 0.077 at depth 2, width 2,000) allows c
    /// up to about 6 and fails on any formula error of several per cent (a wrong factor or a missing layer or bias term is
    /// tens of per cent). Measured: Θ within 0.005–0.022 at depth 1 and 0.010–0.052 at depth 2; at width 300,000 the
    /// depth-1 errors fell to 0.0003 (ReLU) and 0.002 (erf), as 1/√width predicts.
    /// </summary>
    [TestMethod]
    [DataRow(InfiniteWidthActivation.Relu, 1, 12000)]
    [DataRow(InfiniteWidthActivation.Erf, 1, 12000)]
    [DataRow(InfiniteWidthActivation.Relu, 2, 2000)]
    [DataRow(InfiniteWidthActivation.Erf, 2, 2000)]
    public void AnalyticKernelsMatchTheEmpiricalKernelsOfAWideRandomNetwork(InfiniteWidthActivation activation, int depth, int width)
    {
        const int seeds = 3;
        double weightSd = activation == InfiniteWidthActivation.Relu ? Math.Sqrt(2) : 1.5;
        const double biasSd = 0.3;
        Matrix<double> x = Inputs();
        int n = x.RowCount;

        var kernel = new InfiniteWidthNtk(activation, depth, weightSd, biasSd);
        InfiniteWidthNtk.PreparedRows rows = kernel.Prepare(x.ToRowMajorArray(), n, InputCount);
        Matrix<double> ntk = Matrix<double>.Build.Dense(n, n, kernel.Ntk(rows, rows)).Transpose();
        Matrix<double> nngp = Matrix<double>.Build.Dense(n, n, kernel.Nngp(rows, rows)).Transpose();

        Matrix<double> empiricalNtk = Matrix<double>.Build.Dense(n, n);
        Matrix<double> empiricalNngp = Matrix<double>.Build.Dense(n, n);
        for (int seed = 0; seed < seeds; seed++)
        {
            var (ntkSample, nngpSample) = EmpiricalKernels(x, activation, depth, width, weightSd, biasSd, seed);
            empiricalNtk += ntkSample / seeds;
            empiricalNngp += nngpSample / seeds;
        }

        double tolerance = 6 / Math.Sqrt(width * (double)seeds);
        Dense.AssertWithin(Dense.RelativeError(empiricalNtk, ntk), tolerance, $"Θ analytic vs empirical, {activation}, depth {depth}, width {width}", TestContext);
        Dense.AssertWithin(Dense.RelativeError(empiricalNngp, nngp), tolerance, $"Σ analytic vs empirical, {activation}, depth {depth}, width {width}", TestContext);
        // The readout layer's term is only part of Θ: a check that the test compares different quantities.
        Assert.IsGreaterThan(1.2 * nngp[0, 0], ntk[0, 0], "Θ includes the hidden layers' terms beyond Σ");
    }

    /// <summary>
    /// The closed-form Gaussian expectations vs Monte Carlo with 400,000 samples, each within 5 standard errors
    /// (estimated from the same samples), plus the exact values at correlation ±1 and 0.
    /// </summary>
    [TestMethod]
    [DataRow(InfiniteWidthActivation.Relu)]
    [DataRow(InfiniteWidthActivation.Erf)]
    public void ExpectationsMatchMonteCarlo(InfiniteWidthActivation activation)
    {
        const int samples = 400_000;
        var random = new Random(17 + (int)activation);
        var cases = new (double Left, double Right, double Correlation)[]
        {
            (1.0, 1.0, 0.0), (2.0, 0.5, 0.7), (0.3, 3.0, -0.6), (1.5, 1.5, 0.99), (4.0, 0.2, -0.95),
        };
        var z1 = new double[samples];
        var z2 = new double[samples];
        Normal.Samples(random, z1, 0, 1);
        Normal.Samples(random, z2, 0, 1);
        foreach (var (left, right, correlation) in cases)
        {
            double covariance = correlation * Math.Sqrt(left * right);
            var (value, derivative) = InfiniteWidthNtk.Expectations(activation, left, right, covariance);
            var products = new double[samples];
            var derivativeProducts = new double[samples];
            for (int i = 0; i < samples; i++)
            {
                double u = Math.Sqrt(left) * z1[i];
                double v = Math.Sqrt(right) * (correlation * z1[i] + Math.Sqrt(1 - correlation * correlation) * z2[i]);
                products[i] = Phi(activation, u) * Phi(activation, v);
                derivativeProducts[i] = PhiPrime(activation, u) * PhiPrime(activation, v);
            }
            AssertWithinStandardErrors(products, value, $"E[φ(u)φ(v)] {activation} ({left}, {right}, ρ={correlation})");
            AssertWithinStandardErrors(derivativeProducts, derivative, $"E[φ′(u)φ′(v)] {activation} ({left}, {right}, ρ={correlation})");
        }

        // Exact values: ReLU at ρ = 1 is E[relu(u)²] = q/2, at ρ = −1 both products vanish; erf is odd, so ρ = 0 gives 0.
        if (activation == InfiniteWidthActivation.Relu)
        {
            Assert.AreEqual(1.5, InfiniteWidthNtk.Expectations(activation, 3, 3, 3).Value, 1e-14);
            Assert.AreEqual(0.5, InfiniteWidthNtk.Expectations(activation, 3, 3, 3).Derivative, 1e-14);
            Assert.AreEqual(0.0, InfiniteWidthNtk.Expectations(activation, 2, 8, -4).Value, 1e-14);
            Assert.AreEqual(0.0, InfiniteWidthNtk.Expectations(activation, 2, 8, -4).Derivative, 1e-14);
            Assert.AreEqual(Math.Sqrt(2 * 8) / (2 * Math.PI), InfiniteWidthNtk.Expectations(activation, 2, 8, 0).Value, 1e-14);
            // Rounding past ±1 is clamped, not NaN.
            Assert.AreEqual(1.5, InfiniteWidthNtk.Expectations(activation, 3, 3, 3 * (1 + 1e-15)).Value, 1e-14);
        }
        else
        {
            Assert.AreEqual(0.0, InfiniteWidthNtk.Expectations(activation, 2, 0.5, 0).Value, 1e-15);
            Assert.AreEqual(4 / Math.PI / Math.Sqrt(5 * 2), InfiniteWidthNtk.Expectations(activation, 2, 0.5, 0).Derivative, 1e-14);
            Assert.IsTrue(double.IsFinite(InfiniteWidthNtk.Expectations(activation, 3, 3, 3 * (1 + 1e-15)).Derivative));
        }
    }

    [TestMethod]
    [DataRow(InfiniteWidthActivation.Relu, 0)]
    [DataRow(InfiniteWidthActivation.Relu, 3)]
    [DataRow(InfiniteWidthActivation.Erf, 2)]
    public void CrossKernelsAgreeAcrossEntryPointsAndDepthZeroIsLinear(InfiniteWidthActivation activation, int depth)
    {
        var random = new Random(5 + depth);
        const double weightSd = 1.3, biasSd = 0.2;
        var kernel = new InfiniteWidthNtk(activation, depth, weightSd, biasSd);
        double[] a = Dense.Gaussian(70, InputCount, random).ToRowMajorArray();   // more rows than one block
        double[] b = Dense.Gaussian(9, InputCount, random).ToRowMajorArray();
        InfiniteWidthNtk.PreparedRows rowsA = kernel.Prepare(a, 70, InputCount);
        InfiniteWidthNtk.PreparedRows copyA = kernel.Prepare((double[])a.Clone(), 70, InputCount);
        InfiniteWidthNtk.PreparedRows rowsB = kernel.Prepare(b, 9, InputCount);

        double[] symmetric = kernel.Ntk(rowsA, rowsA);
        double[] general = kernel.Ntk(rowsA, copyA);
        CollectionAssert.AreEqual(general, symmetric, "the symmetric fast path equals the general one");
        for (int i = 0; i < 70; i++)
        {
            for (int j = 0; j < 70; j++)
                Assert.AreEqual(symmetric[i * 70 + j], symmetric[j * 70 + i], $"symmetry at ({i}, {j})");
        }

        double[] cross = kernel.Ntk(rowsB, rowsA);
        double[] weights = Enumerable.Range(0, 70).Select(_ => random.NextDouble() - 0.5).ToArray();
        for (int i = 0; i < 9; i++)
        {
            double expected = Enumerable.Range(0, 70).Sum(j => cross[i * 70 + j] * weights[j]);
            Assert.AreEqual(expected, kernel.WeightedSum(b.AsSpan(i * InputCount, InputCount), rowsA, weights), 1e-12 * Math.Max(1, Math.Abs(expected)));
        }

        if (depth == 0)
        {
            // No hidden layer: f = (σ_w/√d)·wᵀx + β·b, so Θ = Σ = σ_w²·x·x′/d + β².
            double[] nngp = kernel.Nngp(rowsB, rowsA);
            for (int i = 0; i < 9; i++)
            {
                for (int j = 0; j < 70; j++)
                {
                    double dot = Enumerable.Range(0, InputCount).Sum(k => b[i * InputCount + k] * a[j * InputCount + k]);
                    double expected = weightSd * weightSd * dot / InputCount + biasSd * biasSd;
                    Assert.AreEqual(expected, cross[i * 70 + j], 1e-12);
                    Assert.AreEqual(expected, nngp[i * 70 + j], 1e-12);
                }
            }
        }
    }

    [TestMethod]
    public void InvalidSettingsAreRejected()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new InfiniteWidthNtk((InfiniteWidthActivation)7, 1, 1, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new InfiniteWidthNtk(InfiniteWidthActivation.Relu, -1, 1, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new InfiniteWidthNtk(InfiniteWidthActivation.Relu, 1, 0, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new InfiniteWidthNtk(InfiniteWidthActivation.Relu, 1, 1, double.NaN));
        var kernel = new InfiniteWidthNtk(InfiniteWidthActivation.Erf, 2, 1, 0.1);
        Assert.ThrowsExactly<ArgumentException>(() => kernel.Prepare(new double[5], 2, 3));
    }

    /// <summary>Five inputs of different norms, including an opposite pair and a scaled copy (correlations −1 and 1).</summary>
    private static Matrix<double> Inputs()
    {
        var random = new Random(3);
        Matrix<double> x = Dense.Gaussian(5, InputCount, random);
        x.SetRow(3, -x.Row(0));
        x.SetRow(4, 2.0 * x.Row(1));
        return x;
    }

    /// <summary>
    /// The empirical NTK J Jᵀ (J by per-sample autograd) and the readout layer's NNGP estimate σ_w²·A_L A_Lᵀ/n_L + β² of
    /// one random network h¹ = (σ_w/√d)W¹x + βb¹, h^{l+1} = (σ_w/√n)W^{l+1}φ(h^l) + βb^{l+1}, f = h^{L+1}, all W, b ~ N(0, 1),
    /// written here with torch's own relu and erf.
    /// </summary>
    private static (Matrix<double> Ntk, Matrix<double> Nngp) EmpiricalKernels(Matrix<double> x, InfiniteWidthActivation activation, int depth,
        int width, double weightSd, double biasSd, int seed)
    {
        using var scope = torch.NewDisposeScope();
        torch.random.manual_seed(1000 + seed);
        var parameters = new List<Tensor>();
        Tensor a = Dense.ToTensor(x);
        int fanIn = InputCount;
        for (int l = 0; l <= depth; l++)
        {
            int outputs = l == depth ? 1 : width;
            Tensor w = torch.randn(new long[] { outputs, fanIn }, ScalarType.Float64).requires_grad_(true);
            Tensor b = torch.randn(new long[] { outputs }, ScalarType.Float64).requires_grad_(true);
            parameters.Add(w);
            parameters.Add(b);
            Tensor h = a.mm(w.t()) * (weightSd / Math.Sqrt(fanIn)) + b * biasSd;
            if (l == depth)
            {
                a = h.squeeze(1);
                break;
            }
            a = activation == InfiniteWidthActivation.Relu ? torch.nn.functional.relu(h) : torch.special.erf(h);
            fanIn = width;
        }
        Tensor f = a;

        // The last hidden layer's activations, recomputed without autograd for the NNGP estimate.
        Tensor last;
        using (torch.no_grad())
        {
            Tensor hidden = Dense.ToTensor(x);
            for (int l = 0; l < depth; l++)
            {
                Tensor h = hidden.mm(parameters[2 * l].t()) * (weightSd / Math.Sqrt(l == 0 ? InputCount : width)) + parameters[2 * l + 1] * biasSd;
                hidden = activation == InfiniteWidthActivation.Relu ? torch.nn.functional.relu(h) : torch.special.erf(h);
            }
            last = hidden;
        }
        int lastWidth = depth == 0 ? InputCount : width;
        Matrix<double> nngp = Dense.ToMatrix(last.mm(last.t())) * (weightSd * weightSd / lastWidth) + biasSd * biasSd;

        // Per-sample gradients by autograd; Θ_ij = Σ over parameter tensors of g_i·g_j (views, no flattened copies).
        int n = x.RowCount;
        var gradients = new IList<Tensor>[n];
        for (int i = 0; i < n; i++)
            gradients[i] = torch.autograd.grad(new[] { f[i] }, parameters.ToArray(), retain_graph: true);
        var ntk = Matrix<double>.Build.Dense(n, n);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double sum = 0;
                for (int k = 0; k < parameters.Count; k++)
                    sum += gradients[i][k].flatten().dot(gradients[j][k].flatten()).item<double>();
                ntk[i, j] = ntk[j, i] = sum;
            }
        }
        return (ntk, nngp);
    }

    private static double Phi(InfiniteWidthActivation activation, double h)
        => activation == InfiniteWidthActivation.Relu ? Math.Max(h, 0) : SpecialFunctions.Erf(h);

    private static double PhiPrime(InfiniteWidthActivation activation, double h)
        => activation == InfiniteWidthActivation.Relu ? (h > 0 ? 1 : 0) : 2 / Math.Sqrt(Math.PI) * Math.Exp(-h * h);

    private void AssertWithinStandardErrors(double[] samples, double expected, string what)
    {
        double mean = samples.Average();
        double variance = samples.Sum(s => (s - mean) * (s - mean)) / (samples.Length - 1);
        double standardError = Math.Sqrt(variance / samples.Length);
        TestContext.WriteLine($"{what}: analytic {expected:G8}, Monte Carlo {mean:G8} ± {standardError:G2}");
        Assert.IsLessThanOrEqualTo(5 * standardError + 1e-12, Math.Abs(mean - expected), what);
    }
}
