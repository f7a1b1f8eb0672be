using System.Collections.Generic;
using System;
using Microsoft.ML.Model.OnnxConverter;

namespace Microsoft.ML.Kare.Onnx;

/// <summary>
/// Adds nodes and float32 constants to the ONNX graph that ML.NET's converter is building (<see cref="OnnxContext"/>),
/// each under a fresh name, so that the graph builders read as the formulas they implement.
/// </summary>
/// <remarks>
/// Every operator used by this folder exists, with the same meaning, in opsets 9 to 12, the range ML.NET's converter
/// writes (it writes 12 unless asked for another): Erf needs 9, and the few operators whose attributes became inputs in
/// opset 13 (ReduceMean's and ReduceSum's axes, Unsqueeze) keep their attribute form until 12.
/// </remarks>
internal sealed class OnnxGraph
{
    /// <summary>The lowest opset whose operators the graph builders use (Erf).</summary>
    public const int MinimumOpSetVersion = 9;

    private readonly OnnxContext _context;

    /// <summary>Starts adding to <paramref name="context"/> for the model named <paramref name="modelName"/> (in messages).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The context writes an opset below <see cref="MinimumOpSetVersion"/>.</exception>
    public OnnxGraph(OnnxContext context, string modelName)
    {
        _context = context ?? throw new ArgumentNullException(nameof(context));
        _context.CheckOpSetVersion(MinimumOpSetVersion, modelName);
    }

    /// <summary>A float32 tensor of the given shape (row-major values).</summary>
    public string Constant(string name, IEnumerable<float> values, params long[] dims) => _context.AddInitializer(values, dims, name);

    /// <summary>A float64 tensor of the given shape (row-major values).</summary>
    public string DoubleConstant(string name, IEnumerable<double> values, params long[] dims) => _context.AddInitializer(values, dims, name);

    /// <summary>A float32 scalar.</summary>
    public string Constant(string name, double value) => _context.AddInitializer((float)value, name);

    /// <summary>An int64 tensor of the given shape (shapes for Reshape, class offsets).</summary>
    public string Int64Constant(string name, IEnumerable<long> values, params long[] dims) => _context.AddInitializer(values, dims, name);

    /// <summary>Adds the operator <paramref name="op"/> on <paramref name="inputs"/>; returns its (fresh) output's name.</summary>
    public string Apply(string op, params string[] inputs) => Apply(op, inputs, out _);

    /// <summary>As <see cref="Apply(string, string[])"/>, and hands back the node for its attributes.</summary>
    public string Apply(string op, string[] inputs, out OnnxNode node)
    {
        string output = _context.AddIntermediateVariable(null, "Kare" + op, skip: true);
        node = ApplyInto(op, output, inputs);
        return output;
    }

    /// <summary>Adds the operator <paramref name="op"/> writing the existing variable <paramref name="output"/> (a column ML.NET declared).</summary>
    /// <remarks>The domain is the empty string, ONNX's standard operators: ML.NET's default (null) is the ai.onnx.ml domain.</remarks>
    public OnnxNode ApplyInto(string op, string output, params string[] inputs)
        => _context.CreateNode(op, inputs, new[] { output }, _context.GetNodeName("Kare" + op), "");

    /// <summary>Converts a tensor to element type <paramref name="type"/> (Cast).</summary>
    public string Cast(string input, Type type)
    {
        string output = Apply("Cast", new[] { input }, out OnnxNode node);
        node.AddAttribute("to", type);
        return output;
    }
}
