using System;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.Kare.Solvers;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Tests.Solvers;

/// <summary>
/// The spectral filter of gradient flow on the mean squared error, α = V diag((1 − e^{−ηts/n})/s) VᵀY, against a matrix
/// exponential computed directly with MathNet (Taylor series with scaling and squaring), its two limits, and a
/// discrete gradient descent run.
/// </summary>
[TestClass]
public sealed class GradientFlowKernelRegressionTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(0.05)]
    [DataRow(1.0)]
    [DataRow(30.0)]
    public void SpectralFormulaEqualsTheMatrixExponentialFormula(double time)
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(4);
        const int n = 10;
        const double rate = 0.7;
        Matrix<double> kernel = Dense.RandomGram(n, 30, random);
        Matrix<double> targets = Dense.Gaussian(n, 2, random);

        Matrix<double> alpha = Dense.ToMatrix(GradientFlowKernelRegression.DualWeights(Dense.ToTensor(kernel), Dense.ToTensor(targets), rate, time));
        Matrix<double> decay = Exponential(-rate * time / n * kernel);
        Matrix<double> expected = kernel.Solve((Matrix<double>.Build.DenseIdentity(n) - decay) * targets);
        Dense.AssertWithin(Dense.RelativeError(expected, alpha), 1e-9, $"α vs K⁻¹(I − e^(−ηtK/n))Y at t = {time}", TestContext);
    }

    [TestMethod]
    public void SingularKernelGivesFiniteWeightsAndTheExactTrainingFit()
    {
        // Rank 3 of 10: K⁻¹ does not exist, but the fit on the training rows, Kα = (I − e^{−ηtK/n})Y, needs no inverse.
        using var scope = torch.NewDisposeScope();
        var random = new Random(6);
        const int n = 10;
        const double rate = 1.0, time = 5.0;
        Matrix<double> kernel = Dense.RandomGram(n, 3, random);
        Matrix<double> targets = Dense.Gaussian(n, 1, random);

        Matrix<double> alpha = Dense.ToMatrix(GradientFlowKernelRegression.DualWeights(Dense.ToTensor(kernel), Dense.ToTensor(targets), rate, time));
        Assert.IsTrue(alpha.Enumerate().All(double.IsFinite));
        Matrix<double> expectedFit = (Matrix<double>.Build.DenseIdentity(n) - Exponential(-rate * time / n * kernel)) * targets;
        Dense.AssertWithin(Dense.RelativeError(expectedFit, kernel * alpha), 1e-9, "training fit with a singular kernel", TestContext);
    }

    [TestMethod]
    public void LongTimeWithoutRidgeInterpolates()
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(7);
        const int n = 12;
        Matrix<double> kernel = Dense.RandomGram(n, 40, random);
        Matrix<double> targets = Dense.Gaussian(n, 1, random);
        Matrix<double> cross = Dense.RandomGram(n + 4, 40, random).SubMatrix(n, 4, 0, n);
        double smallest = kernel.Evd().EigenValues.Min(v => v.Real);
        double time = 60 * n / smallest; // e^{−t·s_min/n} = e^{−60}: converged to double precision

        Matrix<double> alpha = Dense.ToMatrix(GradientFlowKernelRegression.DualWeights(Dense.ToTensor(kernel), Dense.ToTensor(targets), 1.0, time));
        Matrix<double> interpolant = kernel.Solve(targets);
        Dense.AssertWithin(Dense.RelativeError(interpolant, alpha), 1e-9, "α at t → ∞ vs K⁻¹Y", TestContext);
        Dense.AssertWithin(Dense.RelativeError(cross * interpolant, cross * alpha), 1e-9, "predictions at t → ∞ vs interpolation", TestContext);
        Dense.AssertWithin(Dense.RelativeError(targets, kernel * alpha), 1e-9, "training rows are interpolated", TestContext);
    }

    [TestMethod]
    public void ShortTimeIsTheFirstOrderTerm()
    {
        // f_t(x) = (ηt/n)·K(x, X)Y − (ηt/n)²·K(x, X)KY/2 + …: with ηt·s_max/n = 1e-6 the first-order term is exact to ~1e-6.
        using var scope = torch.NewDisposeScope();
        var random = new Random(8);
        const int n = 12;
        const double rate = 2.0;
        Matrix<double> kernel = Dense.RandomGram(n, 40, random);
        Matrix<double> targets = Dense.Gaussian(n, 1, random);
        Matrix<double> cross = Dense.Gaussian(3, n, random);
        double largest = kernel.Evd().EigenValues.Max(v => v.Real);
        double time = 1e-6 * n / (rate * largest);

        Matrix<double> alpha = Dense.ToMatrix(GradientFlowKernelRegression.DualWeights(Dense.ToTensor(kernel), Dense.ToTensor(targets), rate, time));
        Matrix<double> firstOrder = rate * time / n * (cross * targets);
        double error = Dense.RelativeError(firstOrder, cross * alpha);
        Dense.AssertWithin(error, 3e-6, "f_t vs (ηt/n)K(X*, X)Y at small t", TestContext);
        Assert.IsGreaterThan(1e-9, error, "the second-order term is visible, so the comparison is not vacuous");
    }

    [TestMethod]
    public void ClosedFormEqualsDiscreteGradientDescentWithSmallSteps()
    {
        // Gradient descent on (1/2n)‖f(X) − Y‖² for f = K(·, X)α starting at 0, in the function space of the training rows:
        // f ← f − (η·Δt/n)·K(f − Y), 20,000 steps to t = 4; Euler's error is O(Δt).
        using var scope = torch.NewDisposeScope();
        var random = new Random(9);
        const int n = 8;
        const double rate = 1.0, time = 4.0;
        const int steps = 20000;
        Matrix<double> kernel = Dense.RandomGram(n, 20, random);
        Vector<double> targets = Vector<double>.Build.Dense(n, _ => random.NextDouble() - 0.5);
        Vector<double> fit = Vector<double>.Build.Dense(n);
        double step = rate * time / steps / n;
        for (int k = 0; k < steps; k++)
            fit -= step * (kernel * (fit - targets));

        Matrix<double> alpha = Dense.ToMatrix(GradientFlowKernelRegression.DualWeights(Dense.ToTensor(kernel), Dense.ToTensor(targets.ToColumnMatrix()), rate, time));
        Dense.AssertWithin(Dense.RelativeError(fit.ToArray(), (kernel * alpha).Column(0).ToArray()), 1e-3, "closed form vs 20,000 gradient descent steps", TestContext);
    }

    [TestMethod]
    public void FilterAtZeroIsTheRate()
    {
        using var scope = torch.NewDisposeScope();
        Tensor filter = GradientFlowKernelRegression.Filter(torch.tensor(new[] { 0.0, 1e-300, 1e-8, 1.0, 1e6 }, ScalarType.Float64), 0.5);
        double[] values = filter.data<double>().ToArray();
        Assert.AreEqual(0.5, values[0]);
        Assert.AreEqual(0.5, values[1], 1e-15);
        Assert.AreEqual(0.5 * (1 - 0.25e-8), values[2], 1e-15);
        Assert.AreEqual(1 - Math.Exp(-0.5), values[3], 1e-15);
        Assert.AreEqual(1e-6, values[4], 1e-20);
    }

    [TestMethod]
    public void InvalidTimeOrRateIsRejected()
    {
        using var scope = torch.NewDisposeScope();
        Tensor kernel = torch.eye(3, dtype: ScalarType.Float64);
        Tensor targets = torch.ones(3, 1, ScalarType.Float64);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => GradientFlowKernelRegression.DualWeights(kernel, targets, 1, double.PositiveInfinity));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => GradientFlowKernelRegression.DualWeights(kernel, targets, 1, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => GradientFlowKernelRegression.DualWeights(kernel, targets, double.NaN, 1));
        Assert.ThrowsExactly<ArgumentException>(() => GradientFlowKernelRegression.DualWeights(kernel, torch.ones(2, 1, ScalarType.Float64), 1, 1));
    }

    /// <summary>e^A by scaling and squaring of a degree-20 Taylor series (no eigendecomposition).</summary>
    private static Matrix<double> Exponential(Matrix<double> a)
    {
        int squarings = Math.Max(0, (int)Math.Ceiling(Math.Log2(Math.Max(a.L1Norm(), 1e-300))) + 1);
        Matrix<double> scaled = a / Math.Pow(2, squarings);
        Matrix<double> identity = Matrix<double>.Build.DenseIdentity(a.RowCount);
        Matrix<double> sum = identity.Clone();
        Matrix<double> term = identity.Clone();
        for (int k = 1; k <= 20; k++)
        {
            term = term * scaled / k;
            sum += term;
        }
        for (int s = 0; s < squarings; s++)
            sum *= sum;
        return sum;
    }
}
