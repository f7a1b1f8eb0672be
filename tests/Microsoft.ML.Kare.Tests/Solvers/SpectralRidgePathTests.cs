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
/// KRR over a λ grid from one eigendecomposition: GCV against the KARE objective (they are the same quantity) and the
/// direct formula, hold-out error against MathNet KRR predictions.
/// </summary>
[TestClass]
public sealed class SpectralRidgePathTests
{
    private static readonly double[] Grid = Dense.LogSpace(1e-6, 10, 36);

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public void GeneralizedCrossValidationEqualsKareObjectiveAtEveryRidge(int outputs)
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(21 + outputs);
        const int n = 30;
        Matrix<double> kernel = Dense.RandomGram(n, 40, random);
        Matrix<double> targets = Dense.Gaussian(n, outputs, random);
        Tensor kernelTensor = Dense.ToTensor(kernel);
        Tensor targetTensor = Dense.ToTensor(targets);

        using var path = new SpectralRidgePath(kernelTensor, targetTensor);
        Assert.AreEqual(0.3 * kernel.Trace() / (n * n), path.AbsoluteRidge(0.3), 1e-14 * path.AbsoluteRidge(0.3), "λ = λ̃·Tr(K)/n²");
        double[] gcv = path.GeneralizedCrossValidation(Grid);
        double[] kare = Grid.Select(z => KareObjective.Value(kernelTensor, targetTensor, z)).ToArray();
        double[] direct = Grid.Select(z => Reference.RhoRelative(kernel, targets, z)).ToArray();

        double vsKare = gcv.Zip(kare, (g, k) => Math.Abs(g - k) / k).Max();
        double vsDirect = gcv.Zip(direct, (g, d) => Math.Abs(g - d) / d).Max();
        Dense.AssertWithin(vsKare, 1e-9, $"GCV vs KareObjective.Value over the grid, c={outputs}", TestContext);
        Dense.AssertWithin(vsDirect, 1e-9, $"GCV vs direct ρ over the grid, c={outputs}", TestContext);
    }

    [TestMethod]
    public void GridArgMinOfGcvIsTheBruteForceMinimiser()
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(8);
        const int n = 40;
        // A smooth signal in the kernel's leading directions plus noise: GCV has an interior minimum.
        Matrix<double> x = Dense.Gaussian(n, 3, random);
        Matrix<double> kernel = Matrix<double>.Build.Dense(n, n, (i, j) => Math.Exp(-(x.Row(i) - x.Row(j)).L2Norm() / 2));
        Matrix<double> targets = Matrix<double>.Build.Dense(n, 1, (i, _) => Math.Sin(x[i, 0]) + 0.3 * x[i, 1]) + Dense.Gaussian(n, 1, random, 0.2);

        using var path = new SpectralRidgePath(Dense.ToTensor(kernel), Dense.ToTensor(targets));
        double[] coarse = Dense.LogSpace(1e-6, 10, 15);
        double[] gcv = path.GeneralizedCrossValidation(coarse);
        int chosen = Dense.ArgMin(gcv);
        Assert.IsTrue(chosen > 0 && chosen < coarse.Length - 1, $"Precondition: interior minimum expected, got index {chosen}.");

        // Brute force with the direct formula on the same grid: same argmin, and the chosen value is the smallest.
        double[] direct = coarse.Select(z => Reference.RhoRelative(kernel, targets, z)).ToArray();
        Assert.AreEqual(Dense.ArgMin(direct), chosen, "argmin of GCV vs argmin of the direct ρ on the grid");
        Assert.IsTrue(direct.All(v => direct[chosen] <= v), "the chosen λ̃ has the smallest direct ρ of the grid");

        // On a 20× finer grid the true minimiser lies between the chosen point's grid neighbours, and its value is
        // not far below the chosen one (the grid is a fair discretisation).
        double[] fine = Dense.LogSpace(1e-6, 10, 281);
        double[] fineValues = fine.Select(z => Reference.RhoRelative(kernel, targets, z)).ToArray();
        int best = Dense.ArgMin(fineValues);
        TestContext.WriteLine($"chosen λ̃ = {coarse[chosen]:G3} (ρ = {gcv[chosen]:G6}); fine-grid minimiser {fine[best]:G3} (ρ = {fineValues[best]:G6})");
        Assert.IsTrue(fine[best] > coarse[chosen - 1] && fine[best] < coarse[chosen + 1], "fine-grid minimiser outside the chosen bracket");
        Assert.IsLessThanOrEqualTo(direct[chosen] * (1 + 1e-12), fineValues[best], "the fine grid contains the coarse one");
        Assert.IsLessThanOrEqualTo(0.1, gcv[chosen] / fineValues[best] - 1, "the coarse minimum is within 10% of the fine one");
    }

    [TestMethod]
    [DataRow(1, false, 9)]
    [DataRow(1, true, 9)]
    [DataRow(3, true, 9)]
    [DataRow(1, false, 60)] // more held-out rows than basis rows: the coefficients are formed per ridge
    [DataRow(3, true, 120)]
    public void ValidationErrorEqualsDirectKrrPredictionError(int outputs, bool weighted, int v)
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(31 + outputs + (weighted ? 100 : 0) + v);
        const int n = 25;
        Assert.AreEqual(v > n, EigenbasisHeldOutError.CoefficientsFirst(v, n, outputs, Grid.Length), "the rows cover both orders");
        Matrix<double> features = Dense.Gaussian(n + v, 6, random);
        Matrix<double> all = features * features.Transpose() + 1.0;
        Matrix<double> kernel = all.SubMatrix(0, n, 0, n);
        Matrix<double> cross = all.SubMatrix(n, v, 0, n);
        Matrix<double> targets = Dense.Gaussian(n, outputs, random);
        Matrix<double> validationTargets = Dense.Gaussian(v, outputs, random);
        double[] weights = Enumerable.Range(0, v).Select(_ => 0.2 + 2 * random.NextDouble()).ToArray();

        using var path = new SpectralRidgePath(Dense.ToTensor(kernel), Dense.ToTensor(targets));
        Tensor? weightTensor = weighted ? torch.tensor(weights, ScalarType.Float64) : null;
        double[] errors = path.ValidationError(Dense.ToTensor(cross), Dense.ToTensor(validationTargets), weightTensor, Grid);

        double[] expected = Grid.Select(z =>
        {
            Matrix<double> residual = Reference.KrrPredictions(kernel, cross, targets, Reference.Ridge(kernel, z)) - validationTargets;
            double sum = 0, total = 0;
            for (int i = 0; i < v; i++)
            {
                double w = weighted ? weights[i] : 1.0;
                sum += w * residual.Row(i).Sum(r => r * r);
                total += w;
            }
            return sum / (total * outputs);
        }).ToArray();
        double error = expected.Zip(errors, (e, a) => Math.Abs(e - a) / e).Max();
        Dense.AssertWithin(error, 1e-7, $"hold-out MSE over the grid, c={outputs}, weighted={weighted}", TestContext);
    }
}
