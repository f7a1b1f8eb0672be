using System;

namespace Microsoft.ML.Kare.Onnx;

/// <summary>
/// The ONNX graph of the infinite-width NTK's prediction, in float32 (Kernels/InfiniteWidthNtk.cs):
/// ŷ = LabelMean + LabelScale·Θ(z, Z)·α over the n stored training rows Z, with Θ from the layer recursion
/// Σ¹ = σ_w²·z·z′/d + β², Θ¹ = Σ¹; Σ^{l+1} = σ_w²·E[φ(u)φ(v)] + β², Θ^{l+1} = Θ^l·σ_w²·E[φ′(u)φ′(v)] + Σ^{l+1}, with the
/// closed forms of ReLU (arc-cosine) and erf. Every kernel entry is an [N, n] tensor, so the graph scores N rows against
/// all n training rows at once; the training rows' variances Σ^l(z_i, z_i) are constants, the scored rows' are computed
/// by the same closed forms as [N, 1] tensors.
/// </summary>
internal static class InfiniteWidthNtkGraph
{
    /// <summary>Adds the prediction of rows <paramref name="features"/> ([N, d] float), written into <paramref name="output"/> ([N, 1]).</summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="features">The feature variable, [N, d].</param>
    /// <param name="activation">φ.</param>
    /// <param name="hiddenLayerCount">L.</param>
    /// <param name="weightStandardDeviation">σ_w.</param>
    /// <param name="biasStandardDeviation">β.</param>
    /// <param name="featureMeans">μ, length d.</param>
    /// <param name="featureScales">σ, length d.</param>
    /// <param name="labelMean">The label mean.</param>
    /// <param name="labelScale">The label scale.</param>
    /// <param name="trainingInputs">The standardised training rows Z, n × d row-major.</param>
    /// <param name="trainingVariances">Their variances Σ^l(z_i, z_i), n × L row-major.</param>
    /// <param name="dualWeights">α, length n.</param>
    /// <param name="output">The variable to write.</param>
    public static void Predictions(OnnxGraph graph, string features, InfiniteWidthActivation activation, int hiddenLayerCount,
        double weightStandardDeviation, double biasStandardDeviation, double[] featureMeans, double[] featureScales,
        double labelMean, double labelScale, double[] trainingInputs, double[] trainingVariances, double[] dualWeights, string output)
    {
        int d = featureMeans.Length, n = dualWeights.Length;
        double weightVariance = weightStandardDeviation * weightStandardDeviation;
        string biasVariance = graph.Constant("KareBiasVariance", biasStandardDeviation * biasStandardDeviation);
        string weightVarianceOverD = graph.Constant("KareWeightVarianceOverD", weightVariance / d);

        string z = graph.Apply("Div",
            graph.Apply("Sub", features, graph.Constant("KareFeatureMeans", ToFloats(featureMeans), d)),
            graph.Constant("KareFeatureScales", ToFloats(featureScales), d));
        var transposedInputs = new float[d * n];
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < d; k++)
                transposedInputs[k * n + i] = (float)trainingInputs[i * d + k];
        }
        // Σ¹ between the rows and the training rows ([N, n]) and of each row with itself ([N, 1]).
        string sigma = graph.Apply("Add",
            graph.Apply("Mul", graph.Apply("MatMul", z, graph.Constant("KareTrainingInputs", transposedInputs, d, n)), weightVarianceOverD),
            biasVariance);
        string rowVariance = graph.Apply("Add",
            graph.Apply("Mul", graph.Apply("MatMul", graph.Apply("Mul", z, z), graph.Constant("KareOnes", Ones(d), d, 1)), weightVarianceOverD),
            biasVariance);
        string theta = sigma;
        string weightVarianceConstant = graph.Constant("KareWeightVariance", weightVariance);
        for (int l = 0; l < hiddenLayerCount; l++)
        {
            var layerVariances = new float[n];
            for (int i = 0; i < n; i++)
                layerVariances[i] = (float)trainingVariances[i * hiddenLayerCount + l];
            string trainingVariance = graph.Constant($"KareTrainingVariances{l}", layerVariances, 1, n);
            var (value, derivative) = Expectations(graph, activation, rowVariance, trainingVariance, sigma);
            sigma = graph.Apply("Add", graph.Apply("Mul", value, weightVarianceConstant), biasVariance);
            theta = graph.Apply("Add", graph.Apply("Mul", theta, graph.Apply("Mul", derivative, weightVarianceConstant)), sigma);
            if (l + 1 < hiddenLayerCount)
            {
                // The row's next variance, by the same closed form with Σ12 = Σ11 = Σ22 (as the managed kernel).
                string diagonal = Expectations(graph, activation, rowVariance, rowVariance, rowVariance).Value;
                rowVariance = graph.Apply("Add", graph.Apply("Mul", diagonal, weightVarianceConstant), biasVariance);
            }
        }
        // Label mean + label scale·Θα, the scale folded into α. The sum over the n training rows is formed in float64:
        // α's terms are large and cancel (α = (Θ + nλI)⁻¹y), and float32 weights and sums cost most of the graph's error.
        string prediction = graph.Apply("MatMul", graph.Cast(theta, typeof(double)),
            graph.DoubleConstant("KareDualWeights", Array.ConvertAll(dualWeights, a => a * labelScale), n, 1));
        graph.ApplyInto("Add", output, graph.Cast(prediction, typeof(float)), graph.Constant("KareLabelMean", labelMean));
    }

    /// <summary>
    /// E[φ(u)φ(v)] and E[φ′(u)φ′(v)] for variances Σ11 (<paramref name="left"/>), Σ22 (<paramref name="right"/>) and
    /// covariance Σ12 (<paramref name="covariance"/>), broadcast against each other, with the clamps of the managed kernel.
    /// </summary>
    private static (string Value, string Derivative) Expectations(OnnxGraph graph, InfiniteWidthActivation activation,
        string left, string right, string covariance)
    {
        string one = graph.Constant("KareOne", 1), minusOne = graph.Constant("KareMinusOne", -1);
        string Clamp(string x) => graph.Apply("Max", graph.Apply("Min", x, one), minusOne);
        switch (activation)
        {
            case InfiniteWidthActivation.Relu:
            {
                // c = Σ12/√(Σ11Σ22), ϑ = arccos c: value √(Σ11Σ22)·(√(1 − c²) + (π − ϑ)c)/(2π), derivative (π − ϑ)/(2π);
                // both 0 where an input's variance is 0 (a ReLU input that is identically 0).
                string product = graph.Apply("Mul", left, right);
                string norm = graph.Apply("Sqrt", product);
                string cosine = Clamp(graph.Apply("Div", covariance, norm));
                string remaining = graph.Apply("Sub", graph.Constant("KarePi", Math.PI), graph.Apply("Acos", cosine));
                string sine = graph.Apply("Sqrt", graph.Apply("Sub", one, graph.Apply("Mul", cosine, cosine)));
                string inverseTwoPi = graph.Constant("KareInverseTwoPi", 1 / (2 * Math.PI));
                string value = graph.Apply("Mul", graph.Apply("Mul", norm, graph.Apply("Add", sine, graph.Apply("Mul", remaining, cosine))), inverseTwoPi);
                string derivative = graph.Apply("Mul", remaining, inverseTwoPi);
                string zero = graph.Constant("KareZero", 0);
                string positive = graph.Apply("Greater", product, zero);
                return (graph.Apply("Where", positive, value, zero), graph.Apply("Where", positive, derivative, zero));
            }
            case InfiniteWidthActivation.Erf:
            {
                // a = 1 + 2Σ11, b = 1 + 2Σ22: value (2/π)·arcsin(2Σ12/√(ab)), derivative (4/π)/√(ab − 4·min(Σ12², Σ11Σ22)).
                string two = graph.Constant("KareTwo", 2);
                string a = graph.Apply("Add", one, graph.Apply("Mul", left, two));
                string b = graph.Apply("Add", one, graph.Apply("Mul", right, two));
                string ab = graph.Apply("Mul", a, b);
                string sine = Clamp(graph.Apply("Div", graph.Apply("Mul", covariance, two), graph.Apply("Sqrt", ab)));
                string covarianceSquared = graph.Apply("Min", graph.Apply("Mul", covariance, covariance), graph.Apply("Mul", left, right));
                string determinant = graph.Apply("Sub", ab, graph.Apply("Mul", covarianceSquared, graph.Constant("KareFour", 4)));
                string value = graph.Apply("Mul", graph.Apply("Asin", sine), graph.Constant("KareTwoOverPi", 2 / Math.PI));
                string derivative = graph.Apply("Div", graph.Constant("KareFourOverPi", 4 / Math.PI), graph.Apply("Sqrt", determinant));
                return (value, derivative);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
        }
    }

    private static float[] ToFloats(double[] values) => Array.ConvertAll(values, v => (float)v);

    private static float[] Ones(int count)
    {
        var ones = new float[count];
        Array.Fill(ones, 1f);
        return ones;
    }
}
