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
/// The optimised KARE step (<see cref="KareStepEngine"/>: reused buffers, cached input Gram, hand-written contraction
/// of dρ/dK with the structured kernel's derivative) against the reference step (autograd through every n×n tensor of
/// the kernel): the same ρ and the same dρ/dθ to rounding, on several networks, activations, weights and output counts.
/// (<see cref="KareStepGradientTests"/> checks the step against finite differences of an independent ρ.)
/// </summary>
[TestClass]
public sealed class KareStepEngineTests
{
    private const double RelativeRidge = 0.1;
    private const double Tolerance = 1e-12;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(new[] { 7 }, KareActivation.Gelu, 1, false)]
    [DataRow(new[] { 7 }, KareActivation.Relu, 3, true)]
    [DataRow(new[] { 6, 5 }, KareActivation.Tanh, 1, true)]
    [DataRow(new[] { 6, 5 }, KareActivation.Gelu, 3, false)]
    [DataRow(new[] { 5, 8, 4 }, KareActivation.Gelu, 1, true)]
    [DataRow(new[] { 5, 8, 4 }, KareActivation.Relu, 1, false)]
    [DataRow(new[] { 4, 6, 5, 3 }, KareActivation.Tanh, 3, false)]
    public void OptimisedGradientEqualsAutogradReference(int[] widths, KareActivation activation, int outputs, bool weighted)
    {
        var random = new Random(31 * widths.Length + 7 * (int)activation + outputs + (weighted ? 1000 : 0));
        const int n = 19;
        const int d = 4;
        var architecture = new KareNetworkArchitecture(d, widths, activation);
        double[] x = Dense.RowMajor(Dense.Gaussian(n, d, random));
        double[] y = Dense.RowMajor(Dense.Gaussian(n, outputs, random));
        double[]? weights = weighted ? Enumerable.Range(0, n).Select(_ => 0.2 + 1.6 * random.NextDouble()).ToArray() : null;
        double[] theta;
        using (MlpNetwork initial = MlpNetwork.Initialize(architecture, random))
            theta = initial.GetParameters();

        using var rows = new RowSet(x, y, weights, d, outputs, Enumerable.Range(0, n).ToArray());
        var (expectedValue, expected) = Gradient(architecture, theta, network => KareStepEngine.ReferenceAccumulateGradient(network, rows, RelativeRidge));
        using var engine = new KareStepEngine();
        var (value, actual) = Gradient(architecture, theta, network => engine.AccumulateGradient(network, rows, RelativeRidge));

        string what = $"widths [{string.Join(",", widths)}], {activation}, c = {outputs}, weighted = {weighted}";
        Dense.AssertWithin(Math.Abs(value - expectedValue) / expectedValue, Tolerance, $"ρ, {what}", TestContext);
        Assert.IsNull(actual[^1], "b_out must not receive a gradient (K does not depend on it).");
        Assert.IsNull(expected[^1]);
        double scale = expected.Take(expected.Length - 1).Max(g => g!.Select(Math.Abs).Max());
        double error = 0;
        for (int i = 0; i < expected.Length - 1; i++)
            error = Math.Max(error, expected[i]!.Zip(actual[i]!, (e, a) => Math.Abs(e - a)).Max());
        Dense.AssertWithin(error / scale, Tolerance, $"dρ/dθ, {what}", TestContext);
    }

    /// <summary>
    /// One engine over batches of different sizes (buffers grow and are viewed smaller) and repeated steps on the same
    /// rows (the cached input Gram) gives what a fresh engine gives, and the step applies exactly that gradient.
    /// </summary>
    [TestMethod]
    public void ReusedEngineMatchesFreshEngineAcrossBatchSizes()
    {
        var random = new Random(5);
        const int d = 3;
        var architecture = new KareNetworkArchitecture(d, new[] { 6, 5 }, KareActivation.Gelu);
        double[] theta;
        using (MlpNetwork initial = MlpNetwork.Initialize(architecture, random))
            theta = initial.GetParameters();
        using var shared = new KareStepEngine();
        foreach (int n in new[] { 9, 23, 14, 23 })
        {
            double[] x = Dense.RowMajor(Dense.Gaussian(n, d, random));
            double[] y = Dense.RowMajor(Dense.Gaussian(n, 1, random));
            using var rows = new RowSet(x, y, null, d, 1, Enumerable.Range(0, n).ToArray());
            for (int repeat = 0; repeat < 2; repeat++)
            {
                var (sharedValue, sharedGradient) = Gradient(architecture, theta, network => shared.AccumulateGradient(network, rows, RelativeRidge));
                double freshValue;
                double[]?[] freshGradient;
                using (var fresh = new KareStepEngine())
                    (freshValue, freshGradient) = Gradient(architecture, theta, network => fresh.AccumulateGradient(network, rows, RelativeRidge));
                Assert.AreEqual(freshValue, sharedValue, 0.0, $"n = {n}");
                for (int i = 0; i < freshGradient.Length - 1; i++)
                    CollectionAssert.AreEqual(freshGradient[i], sharedGradient[i], $"n = {n}, parameter block {i}");
            }

            // The step: SGD at rate 1 moves θ by exactly −dρ/dθ.
            var (_, gradient) = Gradient(architecture, theta, network => shared.AccumulateGradient(network, rows, RelativeRidge));
            using MlpNetwork stepped = MlpNetwork.FromParameters(architecture, theta);
            using (ParameterOptimizer sgd = ParameterOptimizer.Create(KareOptimizer.Sgd, stepped.Parameters, 1.0))
                shared.Step(stepped, sgd, rows, RelativeRidge);
            double[] expected = Flatten(architecture, theta, gradient);
            double[] after = stepped.GetParameters();
            for (int i = 0; i < after.Length; i++)
                Assert.AreEqual(expected[i], after[i], 1e-15 * Math.Max(1, Math.Abs(expected[i])), $"θ[{i}] after the step, n = {n}");
        }
    }

    /// <summary>
    /// The stochastic option (Hutchinson probes for A²): ρ stays exact, one probe set's gradient differs from the exact
    /// one, and the mean over many probes converges to the exact gradient (the estimator is unbiased): the error of the
    /// mean of 16 calls is about 4× smaller than that of one call, and small in absolute terms.
    /// </summary>
    [TestMethod]
    [DataRow(new[] { 7 }, KareActivation.Gelu, 1, false)]
    [DataRow(new[] { 6, 5 }, KareActivation.Tanh, 3, true)]
    public void StochasticGradientIsUnbiased(int[] widths, KareActivation activation, int outputs, bool weighted)
    {
        var random = new Random(77 + widths.Length);
        const int n = 15;
        const int d = 3;
        const int probes = 4000;
        const int calls = 16;
        var architecture = new KareNetworkArchitecture(d, widths, activation);
        double[] x = Dense.RowMajor(Dense.Gaussian(n, d, random));
        double[] y = Dense.RowMajor(Dense.Gaussian(n, outputs, random));
        double[]? weights = weighted ? Enumerable.Range(0, n).Select(_ => 0.2 + 1.6 * random.NextDouble()).ToArray() : null;
        double[] theta;
        using (MlpNetwork initial = MlpNetwork.Initialize(architecture, random))
            theta = initial.GetParameters();
        using var rows = new RowSet(x, y, weights, d, outputs, Enumerable.Range(0, n).ToArray());

        double[] exact;
        double exactValue;
        using (var engine = new KareStepEngine())
        {
            var (v, g) = Gradient(architecture, theta, network => engine.AccumulateGradient(network, rows, RelativeRidge));
            exactValue = v;
            exact = g.Take(g.Length - 1).SelectMany(b => b!).ToArray();
        }

        var sum = new double[exact.Length];
        double firstError = double.NaN;
        using (var stochastic = new KareStepEngine { StochasticProbes = probes, ProbeSeed = 3 })
        {
            for (int call = 0; call < calls; call++)
            {
                var (v, g) = Gradient(architecture, theta, network => stochastic.AccumulateGradient(network, rows, RelativeRidge));
                Dense.AssertWithin(Math.Abs(v - exactValue) / exactValue, 1e-12, "ρ is exact in the stochastic step", TestContext);
                Assert.IsNull(g[^1]);
                double[] flat = g.Take(g.Length - 1).SelectMany(b => b!).ToArray();
                for (int i = 0; i < sum.Length; i++)
                    sum[i] += flat[i];
                if (call == 0)
                    firstError = RelativeError(exact, flat);
            }
        }
        double meanError = RelativeError(exact, sum.Select(v => v / calls).ToArray());
        TestContext.WriteLine($"relative error: one call of {probes} probes {firstError:E2}, mean of {calls} calls {meanError:E2}");
        Assert.IsGreaterThan(1e-6, firstError, "the probes must make a difference");
        Assert.IsLessThan(0.5 * firstError, meanError, "averaging probes must converge");
        Assert.IsLessThan(0.02, meanError, "the mean over many probes must match the exact gradient");
    }

    private static double RelativeError(double[] expected, double[] actual)
        => expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max() / expected.Max(Math.Abs);

    /// <summary>ρ and each parameter block's gradient (null when the block gets none) of a fresh network at θ.</summary>
    private static (double Value, double[]?[] Gradient) Gradient(KareNetworkArchitecture architecture, double[] theta, Func<MlpNetwork, double> accumulate)
    {
        using MlpNetwork network = MlpNetwork.FromParameters(architecture, theta);
        double value = accumulate(network);
        var blocks = network.Parameters
            .Select(p => p.grad is Tensor g ? g.contiguous().data<double>().ToArray() : null)
            .ToArray();
        return (value, blocks);
    }

    private static double[] Flatten(KareNetworkArchitecture architecture, double[] theta, double[]?[] gradient)
    {
        double[] result = (double[])theta.Clone();
        int offset = 0;
        foreach (double[]? block in gradient)
        {
            if (block is null)
            {
                offset += 1; // b_out, the only block without a gradient
                continue;
            }
            for (int i = 0; i < block.Length; i++)
                result[offset + i] -= block[i];
            offset += block.Length;
        }
        Assert.AreEqual(architecture.ParameterCount, offset);
        return result;
    }
}
