using System.Collections.Generic;
using System.Linq;
using System;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Microsoft.ML.Kare.Tests.Training;

/// <summary>
/// dρ/dθ as <see cref="KareStepEngine"/> computes it (closed-form dρ/dK, then one backward pass of
/// sum(K ⊙ dρ/dK) through the structured kernel) against central differences of ρ(θ), where ρ(θ) is evaluated
/// independently: K = J Jᵀ from the autograd Jacobian, ρ by the explicit-inverse formula.
/// </summary>
[TestClass]
public sealed class KareStepGradientTests
{
    internal const double RelativeRidge = 0.1;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(KareActivation.Gelu, 1, false)]
    [DataRow(KareActivation.Tanh, 1, true)]
    [DataRow(KareActivation.Relu, 1, false)]
    [DataRow(KareActivation.Gelu, 2, true)]
    public void KareStepGradientMatchesFiniteDifferencesOfRho(KareActivation activation, int outputs, bool weighted)
    {
        using var scope = torch.NewDisposeScope();
        const int n = 12;
        const int d = 3;
        var random = new Random(17 + (int)activation + 10 * outputs + (weighted ? 100 : 0));
        var architecture = new KareNetworkArchitecture(d, new[] { 5, 4 }, activation);
        int p = (int)architecture.ParameterCount;
        Matrix<double> x = Dense.Gaussian(n, d, random);
        Matrix<double> y = Dense.Gaussian(n, outputs, random);
        double[]? weights = weighted ? Enumerable.Range(0, n).Select(_ => 0.3 + 1.5 * random.NextDouble()).ToArray() : null;

        double[] theta;
        using (MlpNetwork initial = MlpNetwork.Initialize(architecture, random))
            theta = initial.GetParameters();

        // The gradient the training step applies: with SGD at learning rate 1, θ_after = θ − dρ/dθ.
        double stepValue;
        double[] after;
        using (MlpNetwork network = MlpNetwork.FromParameters(architecture, theta))
        using (ParameterOptimizer sgd = ParameterOptimizer.Create(KareOptimizer.Sgd, network.Parameters, 1.0))
        using (var rows = new RowSet(Dense.RowMajor(x), Dense.RowMajor(y), weights, d, outputs, Enumerable.Range(0, n).ToArray()))
        {
            using var engine = new KareStepEngine();
            stepValue = engine.Step(network, sgd, rows, RelativeRidge);
            after = network.GetParameters();
            Assert.IsNull(network.Parameters[^1].grad, "b_out must not receive a gradient (K does not depend on it).");
        }
        double[] gradient = theta.Zip(after, (before, a) => before - a).ToArray();

        double rho0 = Rho(architecture, theta, x, y, weights);
        Dense.AssertWithin(Math.Abs(stepValue - rho0) / rho0, 1e-10, $"KareStep's ρ vs independent ρ ({activation}, c={outputs}, weighted={weighted})", TestContext);

        // K does not depend on b_out: its gradient is null (the parameter is left unchanged) and ρ is flat along it.
        Assert.AreEqual(theta[p - 1], after[p - 1], 0.0, "b_out moved");

        var sample = SampleIndices(architecture, random);
        var fd = new List<double>();
        var closed = new List<double>();
        foreach (int index in sample)
        {
            double h = 1e-5;
            double plus = Rho(architecture, Perturb(theta, index, h), x, y, weights);
            double minus = Rho(architecture, Perturb(theta, index, -h), x, y, weights);
            fd.Add((plus - minus) / (2 * h));
            closed.Add(gradient[index]);
        }
        double scale = closed.Max(Math.Abs);
        Assert.IsGreaterThan(1e-6, scale, "Precondition: a non-trivial gradient.");
        double error = fd.Zip(closed, (f, c) => Math.Abs(f - c)).Max() / scale;
        Dense.AssertWithin(error, 1e-6, $"dρ/dθ vs central differences on {sample.Count} parameters ({activation}, c={outputs}, weighted={weighted})", TestContext);

        double flat = (Rho(architecture, Perturb(theta, p - 1, 1e-3), x, y, weights) - Rho(architecture, Perturb(theta, p - 1, -1e-3), x, y, weights)) / 2e-3;
        Assert.AreEqual(0.0, flat, 1e-9 * rho0, "ρ must not depend on b_out");
    }

    /// <summary>Three random entries of every block (W_l, b_l, w_out) plus b_out.</summary>
    private static List<int> SampleIndices(KareNetworkArchitecture architecture, Random random)
    {
        var indices = new List<int>();
        for (int l = 0; l < architecture.Depth; l++)
        {
            int w = (int)architecture.WeightOffset(l);
            int b = (int)architecture.BiasOffset(l);
            int end = b + architecture.HiddenWidths[l];
            for (int k = 0; k < 3; k++)
            {
                indices.Add(random.Next(w, b));
                indices.Add(random.Next(b, end));
            }
        }
        int output = (int)architecture.OutputWeightOffset;
        for (int k = 0; k < 3; k++)
            indices.Add(random.Next(output, (int)architecture.ParameterCount - 1));
        indices.Add((int)architecture.ParameterCount - 1);
        return indices;
    }

    private static double[] Perturb(double[] theta, int index, double h)
    {
        double[] copy = (double[])theta.Clone();
        copy[index] += h;
        return copy;
    }

    /// <summary>
    /// ρ(S K S, S Y) at <see cref="RelativeRidge"/> with K = J Jᵀ (autograd Jacobian) and the explicit-inverse formula;
    /// S = diag(√w). The independent ρ other step tests compare with too.
    /// </summary>
    internal static double Rho(KareNetworkArchitecture architecture, double[] theta, Matrix<double> x, Matrix<double> y, double[]? weights)
    {
        using MlpNetwork network = MlpNetwork.FromParameters(architecture, theta);
        Matrix<double> jacobian = Reference.Jacobian(network, x);
        Matrix<double> kernel = jacobian * jacobian.Transpose();
        Matrix<double> targets = y;
        if (weights is not null)
        {
            var s = Matrix<double>.Build.DiagonalOfDiagonalArray(weights.Select(Math.Sqrt).ToArray());
            kernel = s * kernel * s;
            targets = s * y;
        }
        return Reference.RhoRelative(kernel, targets, RelativeRidge);
    }
}
