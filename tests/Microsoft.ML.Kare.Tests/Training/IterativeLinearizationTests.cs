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
/// Iterative linearisation (docs/maths.md, "Other methods") against independent computations: re-linearising every step is ordinary
/// training; never re-linearising is gradient descent on least squares with the initial Jacobian as features.
/// </summary>
[TestClass]
public sealed class IterativeLinearizationTests
{
    private const int Rows = 24;
    private const int Inputs = 3;
    private const double LearningRate = 0.05;

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void RelinearizingEveryStepIsOrdinaryTraining(bool weighted)
    {
        var architecture = new KareNetworkArchitecture(Inputs, new[] { 7, 5 }, KareActivation.Gelu);
        using RowSet rows = CreateRows(weighted, seed: 3);
        using var ordinary = MlpNetwork.Initialize(architecture, new Random(9));
        using var linearized = MlpNetwork.Initialize(architecture, new Random(9));
        using var ordinaryOptimizer = ParameterOptimizer.Create(KareOptimizer.Sgd, ordinary.Parameters, LearningRate);
        using var linearizedOptimizer = ParameterOptimizer.Create(KareOptimizer.Sgd, linearized.Parameters, LearningRate);
        using var linearization = new IterativeLinearization(architecture, interval: 1);

        for (int step = 0; step < 6; step++)
        {
            double expectedLoss = MseStep.Run(ordinary, ordinaryOptimizer, rows);
            double actualLoss = linearization.Step(linearized, linearizedOptimizer, rows, batchIsFixed: step % 2 == 0);
            Assert.AreEqual(expectedLoss, actualLoss, 1e-12 * expectedLoss, $"loss at step {step}");
        }
        Dense.AssertWithin(Dense.RelativeError(ordinary.GetParameters(), linearized.GetParameters()), 1e-12, "θ after 6 steps");
    }

    [TestMethod]
    public void NeverRelinearizingIsLeastSquaresOnTheInitialJacobian()
    {
        var architecture = new KareNetworkArchitecture(Inputs, new[] { 6 }, KareActivation.Tanh);
        using RowSet rows = CreateRows(weighted: false, seed: 4);
        using var network = MlpNetwork.Initialize(architecture, new Random(2));
        double[] initial = network.GetParameters();
        Matrix<double> inputs = Dense.ToMatrix(rows.Features);
        Matrix<double> jacobian = Reference.Jacobian(network, inputs);
        Vector<double> initialOutputs = Vector<double>.Build.Dense(Rows, i => Reference.Forward(architecture, initial, inputs.Row(i).ToArray()).Output);
        Vector<double> targets = Dense.ToMatrix(rows.Targets).Column(0);

        using var optimizer = ParameterOptimizer.Create(KareOptimizer.Sgd, network.Parameters, LearningRate);
        using var linearization = new IterativeLinearization(architecture, interval: 0);
        const int Steps = 8;
        for (int step = 0; step < Steps; step++)
            linearization.Step(network, optimizer, rows, batchIsFixed: step < 4);

        // Gradient descent on (1/n)‖f₀ + JΔ − y‖²: Δ ← Δ − η (2/n) Jᵀ(f₀ + JΔ − y).
        Vector<double> delta = Vector<double>.Build.Dense(initial.Length);
        for (int step = 0; step < Steps; step++)
            delta -= LearningRate * 2.0 / Rows * jacobian.TransposeThisAndMultiply(initialOutputs + jacobian * delta - targets);
        double[] expected = initial.Zip(delta, (t, s) => t + s).ToArray();

        Dense.AssertWithin(Dense.RelativeError(expected, network.GetParameters()), 1e-11, "θ after 8 lazy steps");
        CollectionAssert.AreEqual(initial, linearization.AnchorParameters, "never re-linearised: θ_k stays θ₀");

        double[] predictions = IterativeLinearization.Predict(architecture, initial, network.GetParameters(), rows.Features);
        Vector<double> expectedPredictions = initialOutputs + jacobian * delta;
        Dense.AssertWithin(Dense.RelativeError(expectedPredictions.ToArray(), predictions), 1e-11, "f₀ + JΔ");
    }

    [TestMethod]
    public void RelinearizesOnTheInterval()
    {
        var architecture = new KareNetworkArchitecture(Inputs, new[] { 4 }, KareActivation.Relu);
        using RowSet rows = CreateRows(weighted: false, seed: 5);
        using var network = MlpNetwork.Initialize(architecture, new Random(4));
        using var optimizer = ParameterOptimizer.Create(KareOptimizer.Sgd, network.Parameters, LearningRate);
        using var linearization = new IterativeLinearization(architecture, interval: 3);
        double[]? previousAnchor = null;
        for (int step = 0; step < 7; step++)
        {
            double[] before = network.GetParameters();
            linearization.Step(network, optimizer, rows, batchIsFixed: true);
            double[] anchor = linearization.AnchorParameters!;
            if (step % 3 == 0)
                CollectionAssert.AreEqual(before, anchor, $"step {step} re-linearises at the current θ");
            else
                CollectionAssert.AreEqual(previousAnchor, anchor, $"step {step} keeps θ_k");
            previousAnchor = anchor;
        }
    }

    private static RowSet CreateRows(bool weighted, int seed)
    {
        var random = new Random(seed);
        double[] features = Enumerable.Range(0, Rows * Inputs).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        double[] targets = Enumerable.Range(0, Rows).Select(i => Math.Sin(2 * features[i * Inputs]) + features[i * Inputs + 1]).ToArray();
        double[]? weights = weighted ? Enumerable.Range(0, Rows).Select(_ => 0.2 + random.NextDouble()).ToArray() : null;
        torch.random.manual_seed(seed);
        return new RowSet(features, targets, weights, Inputs, 1, Enumerable.Range(0, Rows).ToArray());
    }
}
