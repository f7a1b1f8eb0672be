using System.Linq;
using System;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.Scoring;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Tests.Scoring;

/// <summary>
/// The managed activations the scorer uses against the TorchSharp ones training uses (the primal model is only
/// exact if both sides agree), and their slopes against torch autograd of torch's built-in activations.
/// </summary>
[TestClass]
public sealed class ManagedActivationsTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(KareActivation.Gelu)]
    [DataRow(KareActivation.Relu)]
    [DataRow(KareActivation.Tanh)]
    public void ManagedValuesAndSlopesEqualTorchActivations(KareActivation activation)
    {
        using var scope = torch.NewDisposeScope();
        double[] h = Enumerable.Range(0, 801).Select(i => -8 + 0.02 * i)
            .Concat(new[] { 0.0, 1e-300, -1e-300, 1e-8, -1e-8, 30, -30, 1e3, -1e3 })
            .ToArray();
        var value = new double[h.Length];
        var slope = new double[h.Length];
        ManagedActivations.Apply(activation, h, value, slope);

        Tensor input = torch.tensor(h, ScalarType.Float64).requires_grad_(true);
        var (torchValue, torchSlope) = TorchActivations.Apply(activation, input);
        double[] expectedValue = torchValue.detach().data<double>().ToArray();
        double[] expectedSlope = torchSlope.detach().data<double>().ToArray();

        // Independent slope: autograd of torch's built-in activation.
        Tensor builtIn = activation switch
        {
            KareActivation.Gelu => torch.nn.functional.gelu(input),
            KareActivation.Relu => torch.nn.functional.relu(input),
            _ => torch.tanh(input),
        };
        double[] builtInValue = builtIn.detach().data<double>().ToArray();
        double[] autogradSlope = torch.autograd.grad(new[] { builtIn.sum() }, new[] { input })[0].data<double>().ToArray();

        double valueError = MaxError(expectedValue, value);
        double slopeError = MaxError(expectedSlope, slope);
        Dense.AssertWithin(valueError, 1e-14, $"{activation} managed vs TorchActivations value", TestContext);
        Dense.AssertWithin(slopeError, 1e-14, $"{activation} managed vs TorchActivations slope", TestContext);
        Dense.AssertWithin(MaxError(builtInValue, value), 1e-14, $"{activation} managed vs torch built-in value", TestContext);
        Dense.AssertWithin(MaxError(autogradSlope, slope), 1e-14, $"{activation} managed slope vs autograd of the built-in", TestContext);
        Assert.IsTrue(value.Concat(slope).All(double.IsFinite));
    }

    [TestMethod]
    public void UnknownActivationIsRejected()
    {
        var buffer = new double[1];
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ManagedActivations.Apply((KareActivation)9, new double[1], buffer, buffer));
    }

    /// <summary>Largest |e − a| / max(1, |e|).</summary>
    private static double MaxError(double[] expected, double[] actual)
        => expected.Zip(actual, (e, a) => Math.Abs(e - a) / Math.Max(1, Math.Abs(e))).Max();
}
