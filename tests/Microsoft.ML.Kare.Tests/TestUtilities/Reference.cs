using System.Collections.Generic;
using System.Linq;
using System;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics;
using Microsoft.ML.Kare.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Tests.TestUtilities;

/// <summary>
/// Independent reference computations: direct O(n³) formulas with MathNet dense matrices, the Jacobian NTK built by
/// per-sample autograd through torch's own activation functions, and a plain C# forward pass. None of them calls the
/// library routine it is used to check.
/// </summary>
internal static class Reference
{
    /// <summary>λ = z·Tr(K)/n² (docs/maths.md, "Kernel ridge regression").</summary>
    public static double Ridge(Matrix<double> kernel, double relativeRidge)
        => relativeRidge * kernel.Trace() / ((double)kernel.RowCount * kernel.RowCount);

    /// <summary>
    /// ρ(K, λ) of docs/maths.md, "KARE" by explicit inversion: A = (K/n + λI)⁻¹, N = Tr(YᵀA²Y)/(n·c), D = Tr(A)/n, ρ = N/D².
    /// </summary>
    public static double Rho(Matrix<double> kernel, Matrix<double> targets, double ridge)
    {
        int n = kernel.RowCount;
        int c = targets.ColumnCount;
        Matrix<double> a = (kernel / n + ridge * Matrix<double>.Build.DenseIdentity(n)).Inverse();
        Matrix<double> ay = a * targets;
        double numerator = ay.Enumerate().Sum(v => v * v) / (n * c);
        double denominator = a.Trace() / n;
        return numerator / (denominator * denominator);
    }

    /// <summary>ρ with the ridge tied to the kernel, λ = z·Tr(K)/n².</summary>
    public static double RhoRelative(Matrix<double> kernel, Matrix<double> targets, double relativeRidge)
        => Rho(kernel, targets, Ridge(kernel, relativeRidge));

    /// <summary>KRR predictions K(X_v, X)(K + nλI)⁻¹Y by a dense LU solve.</summary>
    public static Matrix<double> KrrPredictions(Matrix<double> kernel, Matrix<double> crossKernel, Matrix<double> targets, double ridge)
    {
        int n = kernel.RowCount;
        Matrix<double> alpha = (kernel + n * ridge * Matrix<double>.Build.DenseIdentity(n)).Solve(targets);
        return crossKernel * alpha;
    }

    /// <summary>
    /// The Jacobian J = ∂f(X)/∂θ (n×P) of the network, one autograd.grad call per row, through a forward pass
    /// written here with torch's built-in activations (not the library's <see cref="TorchActivations"/>), its columns
    /// in the flat layout of <see cref="KareNetworkArchitecture"/>.
    /// </summary>
    public static Matrix<double> Jacobian(MlpNetwork network, Matrix<double> inputs)
    {
        using var scope = torch.NewDisposeScope();
        KareNetworkArchitecture architecture = network.Architecture;
        IReadOnlyList<Tensor> p = network.Parameters;
        int depth = architecture.Depth;
        Tensor a = Dense.ToTensor(inputs);
        for (int l = 0; l < depth; l++)
        {
            Tensor h = a.mm(p[2 * l].t()) + p[2 * l + 1];
            a = architecture.Activation switch
            {
                KareActivation.Gelu => torch.nn.functional.gelu(h),
                KareActivation.Relu => torch.nn.functional.relu(h),
                KareActivation.Tanh => torch.tanh(h),
                _ => throw new ArgumentOutOfRangeException(nameof(network)),
            };
        }
        Tensor f = a.mv(p[2 * depth]) + p[2 * depth + 1];

        int n = inputs.RowCount;
        var jacobian = Matrix<double>.Build.Dense(n, (int)architecture.ParameterCount);
        for (int i = 0; i < n; i++)
        {
            IList<Tensor> grads = torch.autograd.grad(new[] { f[i] }, p.ToArray(), retain_graph: true, allow_unused: true);
            int column = 0;
            for (int k = 0; k < p.Count; k++)
            {
                int count = (int)p[k].numel();
                if (grads[k] is not null)
                {
                    double[] values = grads[k].contiguous().data<double>().ToArray();
                    for (int j = 0; j < count; j++)
                        jacobian[i, column + j] = values[j];
                }
                column += count;
            }
        }
        return jacobian;
    }

    /// <summary>φ(h) written out in plain C# (GELU with MathNet's erf).</summary>
    public static double Activate(KareActivation activation, double h) => activation switch
    {
        KareActivation.Gelu => 0.5 * h * (1 + SpecialFunctions.Erf(h / Math.Sqrt(2))),
        KareActivation.Relu => Math.Max(h, 0),
        KareActivation.Tanh => Math.Tanh(h),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    /// <summary>
    /// Forward pass of one row in plain C#, reading θ by walking its layout (W_l row-major width×inputs, b_l, …,
    /// w_out, b_out) with its own offset counter. Returns the activations a_0..a_L and f(x).
    /// </summary>
    public static (double[][] Activations, double Output) Forward(KareNetworkArchitecture architecture, double[] theta, double[] x)
    {
        var activations = new double[architecture.Depth + 1][];
        activations[0] = x;
        int offset = 0;
        double[] a = x;
        for (int l = 0; l < architecture.Depth; l++)
        {
            int width = architecture.HiddenWidths[l];
            int inputs = a.Length;
            var next = new double[width];
            for (int r = 0; r < width; r++)
            {
                double sum = theta[offset + width * inputs + r];
                for (int j = 0; j < inputs; j++)
                    sum += theta[offset + r * inputs + j] * a[j];
                next[r] = Activate(architecture.Activation, sum);
            }
            offset += width * inputs + width;
            a = next;
            activations[l + 1] = a;
        }
        double output = theta[offset + a.Length];
        for (int j = 0; j < a.Length; j++)
            output += theta[offset + j] * a[j];
        if (offset + a.Length + 1 != theta.Length)
            throw new InvalidOperationException("The parameter vector does not match the architecture.");
        return (activations, output);
    }

    /// <summary>Row indices 0, 1, … with index i repeated counts[i] times, in order.</summary>
    public static int[] RepeatIndices(IReadOnlyList<int> counts)
        => Enumerable.Range(0, counts.Count).SelectMany(i => Enumerable.Repeat(i, counts[i])).ToArray();
}
