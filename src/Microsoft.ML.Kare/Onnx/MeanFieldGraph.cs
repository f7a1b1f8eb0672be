using System;

namespace Microsoft.ML.Kare.Onnx;

/// <summary>
/// The ONNX graph of a mean-field two-layer network's prediction, in float32 (Model/MeanFieldModelParameters.cs):
/// ŷ = LabelMean + LabelScale·(1/m)·Σ_j a_j φ(w_j·(z, 1)), z = (x − μ)/σ.
/// </summary>
internal static class MeanFieldGraph
{
    /// <summary>Adds the prediction of rows <paramref name="features"/> ([N, d] float), written into <paramref name="output"/> ([N, 1]).</summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="features">The feature variable, [N, d].</param>
    /// <param name="activation">φ.</param>
    /// <param name="firstLayer">W, m × (d + 1) row-major: each particle's d weights, then its bias.</param>
    /// <param name="secondLayer">a, length m.</param>
    /// <param name="featureMeans">μ, length d.</param>
    /// <param name="featureScales">σ, length d.</param>
    /// <param name="labelMean">The label mean.</param>
    /// <param name="labelScale">The label scale.</param>
    /// <param name="output">The variable to write.</param>
    public static void Predictions(OnnxGraph graph, string features, KareActivation activation, double[] firstLayer, double[] secondLayer,
        double[] featureMeans, double[] featureScales, double labelMean, double labelScale, string output)
    {
        int d = featureMeans.Length, m = secondLayer.Length;
        var weights = new float[d * m];    // Wᵀ without the biases: d × m
        var biases = new float[m];
        for (int j = 0; j < m; j++)
        {
            for (int k = 0; k < d; k++)
                weights[k * m + j] = (float)firstLayer[j * (d + 1) + k];
            biases[j] = (float)firstLayer[j * (d + 1) + d];
        }

        string z = graph.Apply("Div",
            graph.Apply("Sub", features, graph.Constant("KareFeatureMeans", Array.ConvertAll(featureMeans, v => (float)v), d)),
            graph.Constant("KareFeatureScales", Array.ConvertAll(featureScales, v => (float)v), d));
        string h = graph.Apply("Add", graph.Apply("MatMul", z, graph.Constant("KareW", weights, d, m)), graph.Constant("KareB", biases, m));
        string a = ActivationGraph.Value(graph, activation, h);
        // The mean over particles and the label scale folded into the second layer: a_j·LabelScale/m.
        string sum = graph.Apply("MatMul", a, graph.Constant("KareA", Array.ConvertAll(secondLayer, v => (float)(v * labelScale / m)), m, 1));
        graph.ApplyInto("Add", output, sum, graph.Constant("KareLabelMean", labelMean));
    }
}
