using System.Linq;
using System;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.Kare.Solvers;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Tests.Solvers;

/// <summary>
/// The KARE objective ρ and its closed-form gradient dρ/dK (docs/maths.md, "KARE") against explicit-inverse formulas in MathNet
/// and central finite differences.
/// </summary>
[TestClass]
public sealed class KareObjectiveTests
{
    private const double RelativeRidge = 0.1;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(12, 1, 0.1)]
    [DataRow(12, 3, 0.1)]
    [DataRow(20, 1, 1e-3)]
    [DataRow(9, 2, 5.0)]
    public void ValueEqualsDirectFormula(int n, int outputs, double relativeRidge)
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(n * 7 + outputs);
        Matrix<double> kernel = Dense.RandomGram(n, n + 4, random) * 3.0;
        Matrix<double> targets = Dense.Gaussian(n, outputs, random);
        double expected = Reference.RhoRelative(kernel, targets, relativeRidge);

        double value = KareObjective.Value(Dense.ToTensor(kernel), Dense.ToTensor(targets), relativeRidge);
        var (valueWithGradient, gradient, ridge) = KareObjective.ValueAndGradient(Dense.ToTensor(kernel), Dense.ToTensor(targets), relativeRidge);

        Dense.AssertWithin(Math.Abs(value - expected) / expected, 1e-11, $"Value n={n} c={outputs} z={relativeRidge}", TestContext);
        Dense.AssertWithin(Math.Abs(valueWithGradient - expected) / expected, 1e-11, "ValueAndGradient's ρ", TestContext);
        Assert.AreEqual(Reference.Ridge(kernel, relativeRidge), ridge, 1e-14 * ridge, "λ = z·Tr(K)/n²");
        Assert.AreEqual(Reference.Ridge(kernel, relativeRidge), global::Microsoft.ML.Kare.Solvers.RelativeRidge.ToAbsolute(relativeRidge, Dense.ToTensor(kernel)), 1e-14 * ridge);
        CollectionAssert.AreEqual(new long[] { n, n }, gradient.shape);
    }

    [TestMethod]
    public void MultiOutputValueIsMeanOfPerColumnNumerators()
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(3);
        const int n = 15;
        Matrix<double> kernel = Dense.RandomGram(n, 10, random);
        Matrix<double> targets = Dense.Gaussian(n, 3, random);

        // ρ(Y) = mean_k N(y_k) / D², and D does not depend on Y, so ρ(Y) = mean_k ρ(y_k).
        double perColumnMean = Enumerable.Range(0, 3)
            .Select(k => Reference.RhoRelative(kernel, targets.SubMatrix(0, n, k, 1), RelativeRidge))
            .Average();
        double value = KareObjective.Value(Dense.ToTensor(kernel), Dense.ToTensor(targets), RelativeRidge);
        Dense.AssertWithin(Math.Abs(value - perColumnMean) / perColumnMean, 1e-11, "ρ(Y n×3) vs mean of single-output ρ", TestContext);

        // The gradient is linear in N, so it is the mean of the single-output gradients too.
        var (_, gradient, _) = KareObjective.ValueAndGradient(Dense.ToTensor(kernel), Dense.ToTensor(targets), RelativeRidge);
        Matrix<double> meanGradient = Matrix<double>.Build.Dense(n, n);
        for (int k = 0; k < 3; k++)
        {
            var (_, g, _) = KareObjective.ValueAndGradient(Dense.ToTensor(kernel), Dense.ToTensor(targets.SubMatrix(0, n, k, 1)), RelativeRidge);
            meanGradient += Dense.ToMatrix(g) / 3;
        }
        Dense.AssertWithin(Dense.RelativeError(meanGradient, Dense.ToMatrix(gradient)), 1e-11, "dρ/dK(Y n×3) vs mean of single-output gradients", TestContext);
    }

    /// <summary>
    /// dρ/dK against central differences of the direct formula, including λ(K) = z·Tr(K)/n². A symmetric perturbation
    /// K_ij += h, K_ji += h (i ≠ j) changes ρ by h·(G_ij + G_ji) = 2h·G_ij; a diagonal one by h·G_ii.
    /// </summary>
    [TestMethod]
    [DataRow(1, 0.1)]
    [DataRow(3, 0.1)]
    [DataRow(1, 1e-2)]
    public void GradientMatchesFiniteDifferencesIncludingRidgeDependence(int outputs, double relativeRidge)
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(40 + outputs);
        const int n = 8;
        Matrix<double> kernel = Dense.RandomGram(n, 12, random);
        Matrix<double> targets = Dense.Gaussian(n, outputs, random);
        var (_, gradientTensor, _) = KareObjective.ValueAndGradient(Dense.ToTensor(kernel), Dense.ToTensor(targets), relativeRidge);
        Matrix<double> gradient = Dense.ToMatrix(gradientTensor);

        Dense.AssertWithin(Dense.RelativeError(gradient, gradient.Transpose()), 1e-14, "dρ/dK symmetric", TestContext);

        double step = 1e-5 * kernel.Diagonal().Average();
        var differences = Matrix<double>.Build.Dense(n, n);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double Rho(double h)
                {
                    Matrix<double> k = kernel.Clone();
                    k[i, j] += h;
                    if (i != j)
                        k[j, i] += h;
                    return Reference.RhoRelative(k, targets, relativeRidge);
                }
                double derivative = (Rho(step) - Rho(-step)) / (2 * step);
                differences[i, j] = differences[j, i] = i == j ? derivative : derivative / 2;
            }
        }
        Dense.AssertWithin(Dense.RelativeError(differences, gradient), 1e-7, $"dρ/dK vs central differences c={outputs} z={relativeRidge}", TestContext);

        // The λ(K) term matters: without it (λ held fixed) the diagonal is wrong by far more than the tolerance.
        double ridge = Reference.Ridge(kernel, relativeRidge);
        double fixedRidgeDiagonal = (Reference.Rho(Shift(kernel, 0, step), targets, ridge) - Reference.Rho(Shift(kernel, 0, -step), targets, ridge)) / (2 * step);
        Assert.IsGreaterThan(1e-4 * Math.Abs(gradient[0, 0]), Math.Abs(fixedRidgeDiagonal - gradient[0, 0]),
            "The test data must make the λ(K) term visible.");
    }

    [TestMethod]
    [DataRow(1e-4)]
    [DataRow(0.37)]
    [DataRow(1e5)]
    public void ValueIsScaleInvariantAndGradientScalesInversely(double c)
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(5);
        const int n = 14;
        Matrix<double> kernel = Dense.RandomGram(n, 9, random);
        Matrix<double> targets = Dense.Gaussian(n, 2, random);

        var (value, gradient, ridge) = KareObjective.ValueAndGradient(Dense.ToTensor(kernel), Dense.ToTensor(targets), RelativeRidge);
        var (scaledValue, scaledGradient, scaledRidge) = KareObjective.ValueAndGradient(Dense.ToTensor(kernel * c), Dense.ToTensor(targets), RelativeRidge);

        Dense.AssertWithin(Math.Abs(scaledValue - value) / value, 1e-11, $"ρ(cK) vs ρ(K), c = {c}", TestContext);
        Assert.AreEqual(c * ridge, scaledRidge, 1e-13 * c * ridge, "λ(cK) = c·λ(K)");
        // ρ(cK) = ρ(K) ⇒ (dρ/dK)(cK) = (dρ/dK)(K)/c.
        Dense.AssertWithin(Dense.RelativeError(Dense.ToMatrix(gradient) / c, Dense.ToMatrix(scaledGradient)), 1e-10, $"dρ/dK(cK)·c vs dρ/dK(K), c = {c}", TestContext);
        // Independent side: the direct formula with ρ(cK, cλ) = ρ(K, λ).
        Assert.AreEqual(Reference.Rho(kernel, targets, ridge), Reference.Rho(kernel * c, targets, c * ridge), 1e-9 * value);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(3)]
    public void EulerIdentityHolds(int outputs)
    {
        // ρ is homogeneous of degree 0 in K (λ ∝ Tr K), so Σ_ij (dρ/dK)_ij K_ij = d/dc ρ(cK)|_{c=1} = 0.
        using var scope = torch.NewDisposeScope();
        var random = new Random(70 + outputs);
        const int n = 16;
        Matrix<double> kernel = Dense.RandomGram(n, 6, random) + 0.1 * Matrix<double>.Build.DenseIdentity(n);
        Matrix<double> targets = Dense.Gaussian(n, outputs, random);
        var (_, gradientTensor, _) = KareObjective.ValueAndGradient(Dense.ToTensor(kernel), Dense.ToTensor(targets), RelativeRidge);
        Matrix<double> gradient = Dense.ToMatrix(gradientTensor);

        Matrix<double> products = gradient.PointwiseMultiply(kernel);
        double sum = products.Enumerate().Sum();
        double magnitude = products.Enumerate().Sum(Math.Abs);
        Dense.AssertWithin(Math.Abs(sum) / magnitude, 1e-12, $"|Σ G⊙K| / Σ|G⊙K|, c={outputs}", TestContext);
    }

    [TestMethod]
    public void RidgeRejectsZeroTrace()
    {
        using var scope = torch.NewDisposeScope();
        Tensor zero = torch.zeros(4, 4, ScalarType.Float64);
        Assert.ThrowsExactly<ArithmeticException>(() => global::Microsoft.ML.Kare.Solvers.RelativeRidge.ToAbsolute(RelativeRidge, zero));
    }

    private static Matrix<double> Shift(Matrix<double> kernel, int i, double h)
    {
        Matrix<double> k = kernel.Clone();
        k[i, i] += h;
        return k;
    }
}
