using System.Collections.Generic;
using System;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Networks;

/// <summary>
/// The multilayer perceptron f(x; θ) of <see cref="KareNetworkArchitecture"/> as float64 TorchSharp leaf tensors,
/// in standard parametrisation (h_l = W_l a_{l-1} + b_l), initialised like PyTorch's nn.Linear:
/// W and b uniform in ±1/√fan_in.
/// </summary>
internal sealed class MlpNetwork : IDisposable
{
    private readonly Tensor[] _weights;
    private readonly Tensor[] _biases;
    private readonly Tensor _outputWeights;
    private readonly Tensor _outputBias;
    private readonly Tensor[] _parameters;

    private MlpNetwork(KareNetworkArchitecture architecture, double[] flat)
    {
        Architecture = architecture;
        int depth = architecture.Depth;
        _weights = new Tensor[depth];
        _biases = new Tensor[depth];
        var parameters = new List<Tensor>(2 * depth + 2);
        for (int l = 0; l < depth; l++)
        {
            int width = architecture.HiddenWidths[l];
            int inputs = architecture.LayerInputCount(l);
            _weights[l] = Leaf(flat, architecture.WeightOffset(l), width, inputs);
            _biases[l] = Leaf(flat, architecture.BiasOffset(l), width);
            parameters.Add(_weights[l]);
            parameters.Add(_biases[l]);
        }
        int last = architecture.HiddenWidths[depth - 1];
        _outputWeights = Leaf(flat, architecture.OutputWeightOffset, last);
        _outputBias = Leaf(flat, architecture.OutputWeightOffset + last, 1);
        parameters.Add(_outputWeights);
        parameters.Add(_outputBias);
        _parameters = parameters.ToArray();
    }

    public KareNetworkArchitecture Architecture { get; }

    /// <summary>The leaf tensors of θ, in the flat layout's order (W_1, b_1, …, W_L, b_L, w_out, b_out).</summary>
    public IReadOnlyList<Tensor> Parameters => _parameters;

    /// <summary>A network with PyTorch's default initialisation drawn from <paramref name="random"/>.</summary>
    public static MlpNetwork Initialize(KareNetworkArchitecture architecture, Random random)
    {
        var flat = new double[architecture.ParameterCount];
        for (int l = 0; l <= architecture.Depth; l++)
        {
            bool output = l == architecture.Depth;
            int fanIn = output ? architecture.HiddenWidths[l - 1] : architecture.LayerInputCount(l);
            long start = output ? architecture.OutputWeightOffset : architecture.WeightOffset(l);
            long end = output ? architecture.ParameterCount : architecture.BiasOffset(l) + architecture.HiddenWidths[l];
            double bound = 1.0 / Math.Sqrt(fanIn);
            for (long i = start; i < end; i++)
                flat[i] = (2 * random.NextDouble() - 1) * bound;
        }
        return new MlpNetwork(architecture, flat);
    }

    /// <summary>A network holding the given flat parameters θ.</summary>
    public static MlpNetwork FromParameters(KareNetworkArchitecture architecture, double[] parameters)
    {
        if (parameters.Length != architecture.ParameterCount)
            throw new ArgumentException($"Expected {architecture.ParameterCount} parameters, got {parameters.Length}.", nameof(parameters));
        return new MlpNetwork(architecture, parameters);
    }

    /// <summary>θ as a flat array in the architecture's layout.</summary>
    public double[] GetParameters()
    {
        var flat = new double[Architecture.ParameterCount];
        long offset = 0;
        using var scope = torch.NewDisposeScope(); // the detached views, disposed now rather than by the finalizer
        foreach (Tensor p in _parameters)
        {
            double[] values = p.detach().contiguous().data<double>().ToArray();
            Array.Copy(values, 0, flat, offset, values.Length);
            offset += values.Length;
        }
        return flat;
    }

    /// <summary>Overwrites θ in place (no autograd history).</summary>
    public void SetParameters(double[] flat)
    {
        using var noGrad = torch.no_grad();
        long offset = 0;
        foreach (Tensor p in _parameters)
        {
            int count = (int)p.numel();
            using Tensor source = torch.tensor(flat.AsSpan((int)offset, count).ToArray(), p.shape, ScalarType.Float64);
            p.copy_(source);
            offset += count;
        }
    }

    /// <summary>True when every parameter is finite.</summary>
    public bool IsFinite()
    {
        using var scope = torch.NewDisposeScope();
        foreach (Tensor p in _parameters)
        {
            if (!p.detach().isfinite().all().item<bool>())
                return false;
        }
        return true;
    }

    /// <summary>
    /// The per-sample forward and backward quantities of docs/maths.md, "Empirical NTK" for the rows of <paramref name="x"/> (n×d):
    /// activations A_0 = x, …, A_L and backprop deltas Δ_1, …, Δ_L, plus the outputs f(x).
    /// They carry autograd history unless computed under no_grad.
    /// </summary>
    public NetworkFeatures Features(Tensor x)
    {
        int depth = Architecture.Depth;
        var activations = new Tensor[depth + 1];
        var slopes = new Tensor[depth];
        activations[0] = x;
        for (int l = 0; l < depth; l++)
        {
            Tensor h = torch.addmm(_biases[l], activations[l], _weights[l].t(), 1f, 1f);
            (activations[l + 1], slopes[l]) = TorchActivations.Apply(Architecture.Activation, h);
        }

        var deltas = new Tensor[depth];
        deltas[depth - 1] = slopes[depth - 1] * _outputWeights.unsqueeze(0);
        for (int l = depth - 2; l >= 0; l--)
            deltas[l] = deltas[l + 1].mm(_weights[l + 1]) * slopes[l];

        Tensor outputs = torch.mv(activations[depth], _outputWeights).Plus(_outputBias);
        return new NetworkFeatures(activations, deltas, outputs);
    }

    public void Dispose()
    {
        foreach (Tensor p in _parameters)
            p.Dispose();
    }

    private static Tensor Leaf(double[] flat, long offset, params long[] shape)
    {
        long count = 1;
        foreach (long s in shape)
            count *= s;
        Tensor t = torch.tensor(flat.AsSpan((int)offset, (int)count).ToArray(), shape, ScalarType.Float64);
        t.requires_grad_(true);
        return t;
    }
}

/// <summary>Per-sample network quantities for a set of rows (docs/maths.md, "Empirical NTK").</summary>
/// <param name="Activations">A_0 (the inputs), …, A_L; each n×width.</param>
/// <param name="Deltas">Δ_1, …, Δ_L: row i of Δ_l is ∂f(x_i)/∂h_l; each n×width_l.</param>
/// <param name="Outputs">f(x_i), length n.</param>
internal sealed record NetworkFeatures(Tensor[] Activations, Tensor[] Deltas, Tensor Outputs)
{
    public long RowCount => Activations[0].shape[0];
}
