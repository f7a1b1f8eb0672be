using System.Linq;
using System;
using Microsoft.ML.Kare.Networks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Tests.Networks;

/// <summary>SGD and Adam updates against hand-computed values.</summary>
[TestClass]
public sealed class ParameterOptimizerTests
{
    private static readonly double[] Start = { 0.5, -1.25, 2.0 };
    private static readonly double[] FirstGradient = { 0.2, -3.0, 1e-3 };
    private static readonly double[] SecondGradient = { -0.4, 1.0, 2e-3 };

    [TestMethod]
    public void SgdTakesTwoPlainGradientSteps()
    {
        using var scope = torch.NewDisposeScope();
        const double rate = 0.3;
        Tensor p = Leaf(Start);
        Tensor unused = Leaf(new[] { 7.0 });
        using ParameterOptimizer sgd = ParameterOptimizer.Create(KareOptimizer.Sgd, new[] { p, unused }, rate);

        Accumulate(p, FirstGradient);
        sgd.Step();
        double[] expected = Start.Select((s, i) => s - rate * FirstGradient[i]).ToArray();
        AssertValues(expected, p, 1e-15);
        AssertValues(new double[3], p.grad!, 0.0); // gradients are cleared after the step

        Accumulate(p, SecondGradient);
        sgd.Step();
        expected = expected.Select((s, i) => s - rate * SecondGradient[i]).ToArray();
        AssertValues(expected, p, 1e-15);
        AssertValues(new[] { 7.0 }, unused, 0.0); // a parameter without a gradient does not move
    }

    [TestMethod]
    public void AdamTakesTwoBiasCorrectedSteps()
    {
        using var scope = torch.NewDisposeScope();
        const double rate = 0.01;
        const double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
        Tensor p = Leaf(Start);
        Tensor unused = Leaf(new[] { 7.0 });
        using ParameterOptimizer adam = ParameterOptimizer.Create(KareOptimizer.Adam, new[] { p, unused }, rate);

        double[] theta = (double[])Start.Clone();
        double[] m = new double[3], v = new double[3];
        double[][] gradients = { FirstGradient, SecondGradient };
        for (int t = 1; t <= 2; t++)
        {
            double[] g = gradients[t - 1];
            for (int i = 0; i < 3; i++)
            {
                m[i] = beta1 * m[i] + (1 - beta1) * g[i];
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
                double mHat = m[i] / (1 - Math.Pow(beta1, t));
                double vHat = v[i] / (1 - Math.Pow(beta2, t));
                theta[i] -= rate * mHat / (Math.Sqrt(vHat) + epsilon);
            }
            Accumulate(p, g);
            adam.Step();
            AssertValues(theta, p, 1e-14);
            if (t == 1)
            {
                // Adam's first step moves every coordinate by ≈ rate·sign(g), whatever the gradient's size.
                AssertValues(Start.Select((s, i) => s - rate * Math.Sign(FirstGradient[i])).ToArray(), p, 1e-6);
            }
        }
        AssertValues(new[] { 7.0 }, unused, 0.0);
    }

    [TestMethod]
    public void UnknownOptimizerIsRejected()
    {
        using var scope = torch.NewDisposeScope();
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ParameterOptimizer.Create((KareOptimizer)7, new[] { Leaf(Start) }, 0.1));
    }

    private static Tensor Leaf(double[] values) => torch.tensor(values, ScalarType.Float64).requires_grad_(true);

    /// <summary>Adds g to p.grad by backpropagating sum(g ⊙ p).</summary>
    private static void Accumulate(Tensor p, double[] g)
    {
        using var scope = torch.NewDisposeScope();
        (p * torch.tensor(g, ScalarType.Float64)).sum().backward();
    }

    private static void AssertValues(double[] expected, Tensor actual, double tolerance)
    {
        double[] values = actual.detach().data<double>().ToArray();
        Assert.HasCount(expected.Length, values);
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(expected[i], values[i], tolerance * Math.Max(1, Math.Abs(expected[i])), $"entry {i}");
    }
}
