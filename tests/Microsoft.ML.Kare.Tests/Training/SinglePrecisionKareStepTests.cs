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
/// The KARE step with its n×n algebra in float32 (<see cref="KareStepEngine.Precision"/>) against the float64 step (itself
/// checked against finite differences in <see cref="KareStepGradientTests"/>) and an independent ρ: the same value and
/// gradient to float32's accuracy, and measurably not the float64 numbers (so the float32 path really ran).
/// </summary>
[TestClass]
public sealed class SinglePrecisionKareStepTests
{
    private const double RelativeRidge = KareStepGradientTests.RelativeRidge; // the ridge of its independent ρ

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(1, false, 0, 1)]
    [DataRow(2, true, 0, 1)]
    [DataRow(3, true, 0, 2)]
    [DataRow(1, false, 16, 1)]
    public void SinglePrecisionStepMatchesTheDoublePrecisionStep(int outputs, bool weighted, int probes, int depth)
    {
        using var scope = torch.NewDisposeScope();
        const int n = 150;
        const int d = 4;
        var random = new Random(5 + outputs + (weighted ? 10 : 0) + probes + 100 * depth);
        var architecture = new KareNetworkArchitecture(d, Enumerable.Repeat(24, depth).ToArray(), KareActivation.Gelu);
        Matrix<double> x = Dense.Gaussian(n, d, random);
        Matrix<double> y = Dense.Gaussian(n, outputs, random);
        double[]? weights = weighted ? Enumerable.Range(0, n).Select(_ => 0.3 + 1.5 * random.NextDouble()).ToArray() : null;
        double[] theta;
        using (MlpNetwork initial = MlpNetwork.Initialize(architecture, random))
            theta = initial.GetParameters();

        var (doubleValue, doubleGradient) = Step(architecture, theta, x, y, weights, probes, torch.ScalarType.Float64);
        var (singleValue, singleGradient) = Step(architecture, theta, x, y, weights, probes, torch.ScalarType.Float32);

        if (probes == 0)
        {
            double independent = KareStepGradientTests.Rho(architecture, theta, x, y, weights);
            Dense.AssertWithin(Math.Abs(doubleValue - independent) / independent, 1e-10, "float64 ρ vs the independent ρ", TestContext);
        }
        Dense.AssertWithin(Math.Abs(singleValue - doubleValue) / doubleValue, 2e-5, "float32 ρ vs float64 ρ", TestContext);
        double difference = Dense.RelativeError(doubleGradient, singleGradient);
        Dense.AssertWithin(difference, 3e-4, $"float32 dρ/dθ vs float64 (c={outputs}, weighted={weighted}, probes={probes}, depth={depth})", TestContext);
        Assert.IsGreaterThan(1e-10, difference, "The float32 step gave the float64 gradient to 1e-10: its algebra did not run in float32.");
    }

    /// <summary>ρ and dρ/dθ of one step of the engine at <paramref name="precision"/> (SGD at rate 1: θ − θ_after).</summary>
    private static (double Value, double[] Gradient) Step(KareNetworkArchitecture architecture, double[] theta, Matrix<double> x, Matrix<double> y,
        double[]? weights, int probes, torch.ScalarType precision)
    {
        using MlpNetwork network = MlpNetwork.FromParameters(architecture, theta);
        using ParameterOptimizer sgd = ParameterOptimizer.Create(KareOptimizer.Sgd, network.Parameters, 1.0);
        using var rows = new RowSet(Dense.RowMajor(x), Dense.RowMajor(y), weights, x.ColumnCount, y.ColumnCount, Enumerable.Range(0, x.RowCount).ToArray());
        using var engine = new KareStepEngine { Precision = precision, StochasticProbes = probes, ProbeSeed = 3 };
        double value = engine.Step(network, sgd, rows, RelativeRidge);
        double[] after = network.GetParameters();
        return (value, theta.Zip(after, (before, a) => before - a).ToArray());
    }
}
