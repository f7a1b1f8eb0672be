using System;
using System.Linq;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Tests.Training;

/// <summary>
/// Exact KARE in parameter space (<see cref="ParameterSpaceKareStep"/>: Woodbury with the explicit Jacobian) against the
/// kernel path (<see cref="KareStepEngine"/>, exact, no probes): the same ρ and dρ/dθ to 1e-10, with one block of rows
/// or several, weighted or not, one output or three; and dρ/dθ against central differences of ρ.
/// </summary>
[TestClass]
public sealed class ParameterSpaceKareStepTests
{
    private const double RelativeRidge = 0.1;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(new[] { 5 }, KareActivation.Gelu, 1, false, 0)]
    [DataRow(new[] { 5 }, KareActivation.Relu, 3, true, 0)]
    [DataRow(new[] { 4, 3 }, KareActivation.Tanh, 1, true, 0)]
    [DataRow(new[] { 4, 3 }, KareActivation.Gelu, 3, false, 17)]
    [DataRow(new[] { 3, 4, 2 }, KareActivation.Gelu, 1, true, 23)]
    public void ValueAndGradientEqualTheKernelPath(int[] widths, KareActivation activation, int outputs, bool weighted, int blockRows)
    {
        var random = new Random(13 * widths.Length + 5 * (int)activation + outputs + (weighted ? 100 : 0) + blockRows);
        const int d = 3;
        var architecture = new KareNetworkArchitecture(d, widths, activation);
        int n = 2 * (int)architecture.ParameterCount + 7; // more rows than parameters, as the path requires
        double[] x = Dense.RowMajor(Dense.Gaussian(n, d, random));
        double[] y = Dense.RowMajor(Dense.Gaussian(n, outputs, random));
        double[]? weights = weighted ? Enumerable.Range(0, n).Select(_ => 0.2 + 1.6 * random.NextDouble()).ToArray() : null;
        double[] theta;
        using (MlpNetwork initial = MlpNetwork.Initialize(architecture, random))
            theta = initial.GetParameters();
        using var rows = new RowSet(x, y, weights, d, outputs, Enumerable.Range(0, n).ToArray());

        using var engine = new KareStepEngine();
        var (expectedValue, expected) = Gradient(architecture, theta, network => engine.AccumulateGradient(network, rows, RelativeRidge));
        var (value, actual) = Gradient(architecture, theta, network =>
        {
            using var optimizer = ParameterOptimizer.Create(KareOptimizer.Sgd, network.Parameters, 1.0);
            using var step = new ParameterSpaceKareStep(network, optimizer, RelativeRidge, blockRows);
            return step.AccumulateGradient(rows);
        });

        string what = $"widths [{string.Join(",", widths)}], {activation}, c = {outputs}, weighted = {weighted}, block rows {blockRows}, n = {n}";
        Dense.AssertWithin(Math.Abs(value - expectedValue) / expectedValue, 1e-10, $"ρ, {what}", TestContext);
        Assert.IsNull(actual[^1], "b_out must not receive a gradient (K does not depend on it).");
        double scale = expected.Take(expected.Length - 1).Max(g => g!.Select(Math.Abs).Max());
        double error = 0;
        for (int i = 0; i < expected.Length - 1; i++)
            error = Math.Max(error, expected[i]!.Zip(actual[i]!, (e, a) => Math.Abs(e - a)).Max());
        Dense.AssertWithin(error / scale, 1e-10, $"dρ/dθ, {what}", TestContext);
    }

    /// <summary>The objective alone (no gradient) equals the value the gradient pass reports, and the kernel path's.</summary>
    [TestMethod]
    public void ObjectiveEqualsTheKernelPathObjective()
    {
        var random = new Random(3);
        const int d = 2, n = 60;
        var architecture = new KareNetworkArchitecture(d, new[] { 4 }, KareActivation.Gelu);
        using var rows = new RowSet(Dense.RowMajor(Dense.Gaussian(n, d, random)), Dense.RowMajor(Dense.Gaussian(n, 1, random)), null, d, 1, Enumerable.Range(0, n).ToArray());
        using MlpNetwork network = MlpNetwork.Initialize(architecture, random);
        using var optimizer = ParameterOptimizer.Create(KareOptimizer.Sgd, network.Parameters, 1.0);
        using var kernelStep = new KernelKareStep(network, optimizer, RelativeRidge, stochasticProbes: 0, probeSeed: 1);
        using var parameterStep = new ParameterSpaceKareStep(network, optimizer, RelativeRidge, blockRows: 25);
        double expected = kernelStep.Objective(rows);
        Assert.AreEqual(expected, parameterStep.Objective(rows), 1e-11 * expected);
    }

    /// <summary>dρ/dθ of the parameter-space path against central differences of its own ρ(θ).</summary>
    [TestMethod]
    public void GradientMatchesFiniteDifferences()
    {
        var random = new Random(11);
        const int d = 2, n = 40;
        var architecture = new KareNetworkArchitecture(d, new[] { 3, 3 }, KareActivation.Tanh);
        using var rows = new RowSet(Dense.RowMajor(Dense.Gaussian(n, d, random)), Dense.RowMajor(Dense.Gaussian(n, 2, random)),
            Enumerable.Range(0, n).Select(_ => 0.5 + random.NextDouble()).ToArray(), d, 2, Enumerable.Range(0, n).ToArray());
        double[] theta;
        using (MlpNetwork initial = MlpNetwork.Initialize(architecture, random))
            theta = initial.GetParameters();
        double Rho(double[] parameters)
        {
            using MlpNetwork network = MlpNetwork.FromParameters(architecture, parameters);
            using var optimizer = ParameterOptimizer.Create(KareOptimizer.Sgd, network.Parameters, 1.0);
            using var step = new ParameterSpaceKareStep(network, optimizer, RelativeRidge);
            return step.Objective(rows);
        }
        var (_, gradient) = Gradient(architecture, theta, network =>
        {
            using var optimizer = ParameterOptimizer.Create(KareOptimizer.Sgd, network.Parameters, 1.0);
            using var step = new ParameterSpaceKareStep(network, optimizer, RelativeRidge);
            return step.AccumulateGradient(rows);
        });
        double[] flat = gradient.SelectMany(g => g ?? new[] { 0.0 }).ToArray();
        double worst = 0, scale = flat.Max(Math.Abs);
        for (int i = 0; i < theta.Length; i++)
        {
            const double h = 1e-5;
            double[] plus = (double[])theta.Clone(), minus = (double[])theta.Clone();
            plus[i] += h;
            minus[i] -= h;
            double numeric = (Rho(plus) - Rho(minus)) / (2 * h);
            worst = Math.Max(worst, Math.Abs(numeric - flat[i]));
        }
        Dense.AssertWithin(worst / scale, 1e-6, "dρ/dθ against central differences", TestContext);
    }

    private static (double Value, double[]?[] Gradient) Gradient(KareNetworkArchitecture architecture, double[] theta, Func<MlpNetwork, double> accumulate)
    {
        using MlpNetwork network = MlpNetwork.FromParameters(architecture, theta);
        double value = accumulate(network);
        var blocks = network.Parameters
            .Select(p => p.grad is Tensor g ? g.contiguous().data<double>().ToArray() : null)
            .ToArray();
        return (value, blocks);
    }
}
