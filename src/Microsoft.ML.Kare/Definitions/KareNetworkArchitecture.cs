using System;
using System.Collections.Generic;
using System.Linq;

namespace Microsoft.ML.Kare;

/// <summary>
/// Shape of the multilayer perceptron f(x; θ) = w_outᵀ a_L + b_out, a_l = φ(W_l a_{l-1} + b_l), a_0 = x,
/// whose empirical neural tangent kernel a KARE model uses.
/// </summary>
/// <remarks>
/// Parameters θ are laid out as one flat vector, layer by layer: W_1 (row-major, width_1 × inputs), b_1, …,
/// W_L, b_L, then w_out (width_L) and b_out. Every component that reads or writes θ uses this layout.
/// </remarks>
public sealed class KareNetworkArchitecture : IEquatable<KareNetworkArchitecture>
{
    private readonly int[] _hiddenWidths;

    /// <summary>Creates an architecture.</summary>
    /// <param name="inputCount">Number of input features.</param>
    /// <param name="hiddenWidths">Width of each hidden layer, input side first. At least one layer.</param>
    /// <param name="activation">Nonlinearity after each hidden layer.</param>
    public KareNetworkArchitecture(int inputCount, IReadOnlyList<int> hiddenWidths, KareActivation activation)
    {
        if (inputCount <= 0)
            throw new ArgumentOutOfRangeException(nameof(inputCount), inputCount, "The network needs at least one input feature.");
        if (hiddenWidths is null || hiddenWidths.Count == 0)
            throw new ArgumentException("The network needs at least one hidden layer.", nameof(hiddenWidths));
        for (int i = 0; i < hiddenWidths.Count; i++)
        {
            if (hiddenWidths[i] <= 0)
                throw new ArgumentOutOfRangeException(nameof(hiddenWidths), hiddenWidths[i], $"Hidden layer {i} must have a positive width.");
        }
        if (!Enum.IsDefined(activation))
            throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");

        InputCount = inputCount;
        _hiddenWidths = hiddenWidths.ToArray();
        Activation = activation;
        ParameterCount = CountParameters(inputCount, _hiddenWidths);
    }

    /// <summary>Number of input features.</summary>
    public int InputCount { get; }

    /// <summary>Width of each hidden layer, input side first.</summary>
    public IReadOnlyList<int> HiddenWidths => _hiddenWidths;

    /// <summary>Number of hidden layers (the network's depth).</summary>
    public int Depth => _hiddenWidths.Length;

    /// <summary>Nonlinearity after each hidden layer.</summary>
    public KareActivation Activation { get; }

    /// <summary>Total number of trainable parameters P.</summary>
    public long ParameterCount { get; }

    /// <summary>Number of inputs of hidden layer <paramref name="layer"/> (0-based).</summary>
    public int LayerInputCount(int layer) => layer == 0 ? InputCount : _hiddenWidths[layer - 1];

    /// <summary>Offset of W_layer (0-based layer) in the flat parameter vector.</summary>
    public long WeightOffset(int layer)
    {
        long offset = 0;
        for (int l = 0; l < layer; l++)
            offset += (long)_hiddenWidths[l] * (LayerInputCount(l) + 1);
        return offset;
    }

    /// <summary>Offset of b_layer (0-based layer) in the flat parameter vector.</summary>
    public long BiasOffset(int layer) => WeightOffset(layer) + (long)_hiddenWidths[layer] * LayerInputCount(layer);

    /// <summary>Offset of the output weights w_out in the flat parameter vector; b_out follows them.</summary>
    public long OutputWeightOffset => WeightOffset(Depth);

    private static long CountParameters(int inputCount, int[] widths)
    {
        long count = 0;
        int previous = inputCount;
        foreach (int width in widths)
        {
            count += (long)width * (previous + 1);
            previous = width;
        }
        return count + previous + 1;
    }

    /// <inheritdoc/>
    public bool Equals(KareNetworkArchitecture? other)
        => other is not null && InputCount == other.InputCount && Activation == other.Activation
           && _hiddenWidths.AsSpan().SequenceEqual(other._hiddenWidths);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as KareNetworkArchitecture);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(InputCount, Activation, _hiddenWidths.Length, ParameterCount);

    /// <inheritdoc/>
    public override string ToString() => $"{InputCount} → {string.Join(" → ", _hiddenWidths)} → 1 ({Activation})";
}
