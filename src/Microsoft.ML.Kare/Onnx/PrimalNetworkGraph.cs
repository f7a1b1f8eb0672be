using System.Collections.Generic;
using System;
using Microsoft.ML.Kare.Scoring;

namespace Microsoft.ML.Kare.Onnx;

/// <summary>
/// The ONNX graph of a KARE model's prediction in primal form (docs/maths.md, "Primal form"), the same arithmetic as
/// Scoring/PrimalScorer.cs in float32: z = (c(x̃) − μ)/σ, x̃ the features and the normal scores of the scored ones, c the
/// skewed inputs' compression; each network's forward pass and its forward-mode tangent in the
/// direction β_k of every output k (dh = dW·a + W·da + db, da = φ′(h) ⊙ dh); ŷ_k = mean_k + scale_k·mean over the
/// networks of (∇θ f(z)ᵀβ_k [+ f(z)]).
/// </summary>
/// <remarks>
/// The m networks and the c tangent directions are the two leading (batch) dimensions of every tensor, so one chain of
/// MatMuls, with ONNX's broadcasting, scores any ensemble and any number of outputs: the forward values a are
/// [m, 1, N, width], the tangents da are [m, c, N, width], a layer's weights Wᵀ are [m, 1, inputs, width] and its
/// tangent weights β_Wᵀ are [m, c, inputs, width]. The graph has O(depth) nodes whatever m and c.
/// </remarks>
internal static class PrimalNetworkGraph
{
    /// <summary>
    /// Adds the prediction of rows <paramref name="features"/> ([N, d] float) and returns its variable, [N, c] float;
    /// written into <paramref name="output"/> when that is given (a column ML.NET declared).
    /// </summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="features">The feature variable, [N, d].</param>
    /// <param name="architecture">The networks' shape.</param>
    /// <param name="parameters">θ of each network, in the layout of <see cref="KareNetworkArchitecture"/>.</param>
    /// <param name="primalWeights">β of each network, P × c, output k at [k·P, (k+1)·P).</param>
    /// <param name="featureMeans">μ, one per network input.</param>
    /// <param name="featureScales">σ, one per network input.</param>
    /// <param name="featureCompressionScales">Per-input compression scale s (0: not compressed), one per network input.</param>
    /// <param name="normalScores">The normal scores appended to the features, or null.</param>
    /// <param name="inputRange">The training range each standardised input is clipped to (Min, then Max), or null.</param>
    /// <param name="targetMeans">Per-output mean, length c.</param>
    /// <param name="targetScales">Per-output scale, length c.</param>
    /// <param name="includesNetworkOutput">Add the network's own output f(z; θ) to each output.</param>
    /// <param name="output">The variable to write, or null for a fresh one.</param>
    public static string Predictions(OnnxGraph graph, string features, KareNetworkArchitecture architecture,
        IReadOnlyList<double[]> parameters, IReadOnlyList<double[]> primalWeights, double[] featureMeans, double[] featureScales,
        double[] featureCompressionScales, NormalScores? normalScores, InputRange? inputRange, double[] targetMeans, double[] targetScales,
        bool includesNetworkOutput, string? output = null)
    {
        int networks = parameters.Count, outputs = targetMeans.Length, d = architecture.InputCount;
        var stack = new ParameterStack(architecture, parameters, primalWeights, outputs);

        string networkInputs = normalScores is null ? features : WithNormalScores(graph, features, normalScores);
        string z = graph.Apply("Div",
            graph.Apply("Sub", CompressedFeatures(graph, networkInputs, featureCompressionScales), graph.Constant("KareFeatureMeans", ToFloats(featureMeans), d)),
            graph.Constant("KareFeatureScales", ToFloats(featureScales), d));
        if (inputRange is not null)
        {
            // Clipping would turn ±∞ into a bound and score it; the managed scorer scores a non-finite row NaN. z − z is 0
            // for a finite z and NaN otherwise, so adding it keeps that (and does not rely on how Min and Max treat NaN).
            string clipped = graph.Apply("Max", graph.Apply("Min", z, graph.Constant("KareInputUpper", ToFloats(inputRange.Upper), d)),
                graph.Constant("KareInputLower", ToFloats(inputRange.Lower), d));
            z = graph.Apply("Add", clipped, graph.Apply("Sub", z, z));
        }

        // a: [m, 1, N, width] (z, [N, d], broadcasts as [1, 1, N, d]); da: [m, c, N, width], zero at the input.
        string a = z;
        string? da = null;
        for (int l = 0; l < architecture.Depth; l++)
        {
            int inputs = architecture.LayerInputCount(l), width = architecture.HiddenWidths[l];
            string weights = graph.Constant($"KareW{l}", stack.Parameters(architecture.WeightOffset(l), width, inputs), networks, 1, inputs, width);
            string biases = graph.Constant($"KareB{l}", stack.Parameters(architecture.BiasOffset(l), 1, width), networks, 1, 1, width);
            string tangentWeights = graph.Constant($"KareBetaW{l}", stack.PrimalWeights(architecture.WeightOffset(l), width, inputs), networks, outputs, inputs, width);
            string tangentBiases = graph.Constant($"KareBetaB{l}", stack.PrimalWeights(architecture.BiasOffset(l), 1, width), networks, outputs, 1, width);

            string h = graph.Apply("Add", graph.Apply("MatMul", a, weights), biases);
            string dh = graph.Apply("MatMul", a, tangentWeights);
            if (da is not null)
                dh = graph.Apply("Add", dh, graph.Apply("MatMul", da, weights));
            dh = graph.Apply("Add", dh, tangentBiases);
            (a, string slope) = ActivationGraph.ValueAndSlope(graph, architecture.Activation, h);
            da = graph.Apply("Mul", slope, dh);
        }

        int last = architecture.LayerInputCount(architecture.Depth);
        long outputOffset = architecture.OutputWeightOffset;
        string outputWeights = graph.Constant("KareWOut", stack.Parameters(outputOffset, 1, last), networks, 1, last, 1);
        string tangentOutputWeights = graph.Constant("KareBetaWOut", stack.PrimalWeights(outputOffset, 1, last), networks, outputs, last, 1);
        string tangentOutputBias = graph.Constant("KareBetaBOut", stack.PrimalWeights(outputOffset + last, 1, 1), networks, outputs, 1, 1);
        // ∇θ f(z)ᵀβ_k = β_wout·a_L + w_out·da_L + β_bout: [m, c, N, 1].
        string tangent = graph.Apply("Add",
            graph.Apply("Add", graph.Apply("MatMul", a, tangentOutputWeights), graph.Apply("MatMul", da!, outputWeights)),
            tangentOutputBias);
        if (includesNetworkOutput)
        {
            string outputBias = graph.Constant("KareBOut", stack.Parameters(outputOffset + last, 1, 1), networks, 1, 1, 1);
            tangent = graph.Apply("Add", tangent, graph.Apply("Add", graph.Apply("MatMul", a, outputWeights), outputBias));
        }

        // The networks' mean, [c, N, 1] → [N, c, 1] → [N, c].
        string mean = graph.Apply("ReduceMean", new[] { tangent }, out var reduce);
        reduce.AddAttribute("axes", new long[] { 0 });
        reduce.AddAttribute("keepdims", 0L);
        string rowsFirst = graph.Apply("Transpose", new[] { mean }, out var transpose);
        transpose.AddAttribute("perm", new long[] { 1, 0, 2 });
        string standardised = graph.Apply("Reshape", rowsFirst, graph.Int64Constant("KareOutputShape", new long[] { -1, outputs }, 2));

        string scaled = graph.Apply("Mul", standardised, graph.Constant("KareTargetScales", ToFloats(targetScales), outputs));
        string targetMeanValues = graph.Constant("KareTargetMeans", ToFloats(targetMeans), outputs);
        if (output is null)
            return graph.Apply("Add", scaled, targetMeanValues);
        graph.ApplyInto("Add", output, scaled, targetMeanValues);
        return output;
    }

    /// <summary>
    /// x̃ = [x, scores] ([N, d + m]): the m scored columns gathered ([N, m]), each mapped through its knots as
    /// s_1 + Σ_k slope_k·(min(max(x, u_k), u_{k+1}) − u_k) over its K − 1 segments ([N, m, K − 1], summed over the last
    /// axis; Scoring/NormalScores.cs), which is s_1 below the first knot and s_K above the last. A column with fewer knots
    /// than the longest is padded with empty segments (u_k = u_{k+1}, slope 0) that add nothing.
    /// </summary>
    private static string WithNormalScores(OnnxGraph graph, string features, NormalScores scores)
    {
        int m = scores.Columns.Length;
        int segments = 1;
        foreach (double[] knots in scores.Knots)
            segments = Math.Max(segments, knots.Length - 1);
        var lower = new float[m * segments];
        var upper = new float[m * segments];
        var slopes = new float[m * segments];
        var first = new float[m];
        for (int k = 0; k < m; k++)
        {
            double[] knots = scores.Knots[k], values = scores.Scores[k];
            first[k] = (float)values[0];
            for (int i = 0; i < segments; i++)
            {
                bool real = i < knots.Length - 1;
                lower[k * segments + i] = (float)(real ? knots[i] : knots[^1]);
                upper[k * segments + i] = (float)(real ? knots[i + 1] : knots[^1]);
                slopes[k * segments + i] = real ? (float)((values[i + 1] - values[i]) / (knots[i + 1] - knots[i])) : 0f;
            }
        }
        long[] columns = Array.ConvertAll(scores.Columns, c => (long)c);
        string gathered = graph.Apply("Gather", new[] { features, graph.Int64Constant("KareScoredColumns", columns, m) }, out var gather);
        gather.AddAttribute("axis", 1L);
        string values3 = graph.Apply("Unsqueeze", new[] { gathered }, out var unsqueeze);
        unsqueeze.AddAttribute("axes", new long[] { 2 });
        string lowerKnots = graph.Constant("KareScoreLowerKnots", lower, m, segments);
        string clipped = graph.Apply("Min", graph.Apply("Max", values3, lowerKnots), graph.Constant("KareScoreUpperKnots", upper, m, segments));
        string rises = graph.Apply("Mul", graph.Apply("Sub", clipped, lowerKnots), graph.Constant("KareScoreSlopes", slopes, m, segments));
        string sum = graph.Apply("ReduceSum", new[] { rises }, out var reduce);
        reduce.AddAttribute("axes", new long[] { 2 });
        reduce.AddAttribute("keepdims", 0L);
        string scored = graph.Apply("Add", sum, graph.Constant("KareScoreFirst", first, m));
        string joined = graph.Apply("Concat", new[] { features, scored }, out var concat);
        concat.AddAttribute("axis", 1L);
        return joined;
    }

    /// <summary>
    /// c(x) column by column (Model/FeatureCompression.cs): sign(x)·ln(1 + |x|/s) where s &gt; 0, x itself where s = 0,
    /// formed as m·sign(x)·ln(1 + |x|·r) + (1 − m)·x with m the 0/1 mask of compressed columns and r = 1/s (1 where
    /// s = 0): each term is exact or exactly zero, where x + m·(c − x) would round c − x at the size of x. The features
    /// themselves when no column is compressed, so such a model's graph is unchanged.
    /// </summary>
    private static string CompressedFeatures(OnnxGraph graph, string features, double[] scales)
    {
        if (!FeatureCompression.Any(scales))
            return features;
        int d = scales.Length;
        string mask = graph.Constant("KareCompressionMask", Array.ConvertAll(scales, s => s > 0 ? 1f : 0f), d);
        string reciprocals = graph.Constant("KareCompressionReciprocalScales", Array.ConvertAll(scales, s => s > 0 ? (float)(1 / s) : 1f), d);
        string logarithm = graph.Apply("Log", graph.Apply("Add", graph.Constant("KareOne", 1.0),
            graph.Apply("Mul", graph.Apply("Abs", features), reciprocals)));
        string compressed = graph.Apply("Mul", graph.Apply("Sign", features), logarithm);
        string kept = graph.Constant("KareCompressionComplement", Array.ConvertAll(scales, s => s > 0 ? 0f : 1f), d);
        return graph.Apply("Add", graph.Apply("Mul", mask, compressed), graph.Apply("Mul", kept, features));
    }

    private static float[] ToFloats(double[] values) => Array.ConvertAll(values, v => (float)v);

    /// <summary>
    /// The networks' θ and β cut into the tensors of the graph: for each network (and each output k of β), a block of
    /// rows × columns values from an offset in the flat layout, transposed to columns × rows, so that W_l (width × inputs,
    /// row-major) becomes the right-hand MatMul operand Wᵀ (inputs × width).
    /// </summary>
    private sealed class ParameterStack(KareNetworkArchitecture architecture, IReadOnlyList<double[]> parameters,
        IReadOnlyList<double[]> primalWeights, int outputs)
    {
        /// <summary>[m, 1, columns, rows] from θ.</summary>
        public float[] Parameters(long offset, int rows, int columns) => Stack(parameters, 1, offset, rows, columns);

        /// <summary>[m, c, columns, rows] from β.</summary>
        public float[] PrimalWeights(long offset, int rows, int columns) => Stack(primalWeights, outputs, offset, rows, columns);

        private float[] Stack(IReadOnlyList<double[]> vectors, int directions, long offset, int rows, int columns)
        {
            long p = architecture.ParameterCount;
            int block = rows * columns;
            var result = new float[vectors.Count * directions * block];
            for (int m = 0; m < vectors.Count; m++)
            {
                for (int k = 0; k < directions; k++)
                {
                    ReadOnlySpan<double> source = vectors[m].AsSpan((int)(k * p + offset), block);
                    Span<float> target = result.AsSpan((m * directions + k) * block, block);
                    for (int r = 0; r < rows; r++)
                    {
                        for (int c = 0; c < columns; c++)
                            target[c * rows + r] = (float)source[r * columns + c];
                    }
                }
            }
            return result;
        }
    }
}
