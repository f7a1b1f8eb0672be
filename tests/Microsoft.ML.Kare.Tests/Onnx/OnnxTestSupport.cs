using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Microsoft.ML.Kare.Tests.Onnx;

/// <summary>
/// Exports a fitted pipeline with ML.NET's converter and scores the exported graph with ONNX Runtime, as an application
/// that deploys the ONNX file would: inputs named after the pipeline's input columns, outputs "&lt;column&gt;.output".
/// </summary>
internal static class OnnxTestSupport
{
    /// <summary>The ONNX model of <paramref name="model"/> for inputs of <paramref name="inputData"/>'s schema.</summary>
    public static byte[] Export(MLContext mlContext, ITransformer model, IDataView inputData)
    {
        using var stream = new MemoryStream();
        mlContext.Model.ConvertToOnnx(model, inputData, stream);
        return stream.ToArray();
    }

    /// <summary>
    /// Scores <paramref name="rowCount"/> rows: each input is a float column of the given width (row-major values).
    /// Returns every output of the graph as floats (keys, Booleans and integers converted), by output name.
    /// </summary>
    public static Dictionary<string, float[]> Score(byte[] onnxModel, int rowCount, params (string Name, float[] Values, int Width)[] inputs)
    {
        using var session = new InferenceSession(onnxModel);
        var values = inputs.Select(input => OrtValue.CreateTensorValueFromMemory(input.Values, new long[] { rowCount, input.Width })).ToArray();
        try
        {
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, inputs.Select(i => i.Name).ToArray(), values, session.OutputNames);
            var result = new Dictionary<string, float[]>();
            for (int i = 0; i < outputs.Count; i++)
                result[session.OutputNames[i]] = AsFloats(outputs[i]);
            return result;
        }
        finally
        {
            foreach (OrtValue value in values)
                value.Dispose();
        }
    }

    /// <summary>The input names the exported graph declares.</summary>
    public static IReadOnlyList<string> InputNames(byte[] onnxModel)
    {
        using var session = new InferenceSession(onnxModel);
        return session.InputNames.ToArray();
    }

    private static float[] AsFloats(OrtValue value) => value.GetTensorTypeAndShape().ElementDataType switch
    {
        TensorElementType.Float => value.GetTensorDataAsSpan<float>().ToArray(),
        TensorElementType.UInt32 => Array.ConvertAll(value.GetTensorDataAsSpan<uint>().ToArray(), v => (float)v),
        TensorElementType.Int64 => Array.ConvertAll(value.GetTensorDataAsSpan<long>().ToArray(), v => (float)v),
        TensorElementType.Bool => Array.ConvertAll(value.GetTensorDataAsSpan<bool>().ToArray(), v => v ? 1f : 0f),
        var type => throw new NotSupportedException($"Output element type {type}."),
    };

    /// <summary>The rows' feature vectors, one after another.</summary>
    public static float[] Flatten(IEnumerable<float[]> rows) => rows.SelectMany(r => r).ToArray();

    /// <summary>max_i |expected_i − actual_i|; infinite when one is NaN and the other is not.</summary>
    public static double LargestDifference(float[] expected, float[] actual)
    {
        if (expected.Length != actual.Length)
            throw new ArgumentException($"{expected.Length} expected values, {actual.Length} actual ones.");
        double largest = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (float.IsNaN(expected[i]) && float.IsNaN(actual[i]))
                continue;
            double difference = Math.Abs((double)expected[i] - actual[i]);
            largest = Math.Max(largest, double.IsNaN(difference) ? double.PositiveInfinity : difference);
        }
        return largest;
    }
}
