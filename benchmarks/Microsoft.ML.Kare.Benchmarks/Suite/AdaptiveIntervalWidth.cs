using System;
using System.Collections.Generic;
using System.Linq;
using MathNet.Numerics;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.Kare.Scoring;

namespace Microsoft.ML.Kare.Benchmarks.Suite;

/// <summary>
/// A measurement, not a feature: would locally adaptive prediction intervals be narrower than constant-width ones at the
/// same coverage? Each residual is scaled by the kernel's posterior standard deviation
/// σ(x)² = nλ·g(x)ᵀ(JᵀJ + nλI)⁻¹g(x), g(x) = ∇θ f(x), J the training rows' Jacobian (docs/maths.md, "Prediction
/// intervals"), averaged over the model's networks; the interval is ŷ ± q·σ(x) with q the conformal quantile of the
/// calibration rows' scaled residuals. Written out for one hidden layer (the default network) in plain float64 algebra,
/// independent of the library's scorer.
/// </summary>
internal static class AdaptiveIntervalWidth
{
    /// <summary>Networks with more parameters than this are not measured (a P×P factor in managed code).</summary>
    public const int MaximumParameters = 2000;

    /// <summary>
    /// σ(x) of each row of <paramref name="rows"/> for a one-hidden-layer model trained on <paramref name="training"/>
    /// (the rows of its final ridge regression); null for deeper or larger networks, and for models with normal scores
    /// (this computation feeds the network the standardised features alone).
    /// </summary>
    public static double[]? PosteriorStandardDeviations(KareRegressionModelParameters model, IReadOnlyList<float[]> training, IReadOnlyList<float[]> rows)
    {
        KareNetworkArchitecture architecture = model.Architecture;
        if (architecture.Depth != 1 || architecture.ParameterCount > MaximumParameters || architecture.Activation != KareActivation.Gelu
            || model.NormalScoreColumns.Count > 0)
            return null;
        int n = training.Count;
        double shift = n * model.Ridge;
        var sum = new double[rows.Count];
        for (int member = 0; member < model.NetworkCount; member++)
        {
            double[] theta = model.GetNetworkParameters(member).ToArray();
            Matrix<double> jacobian = Jacobian(model, theta, training);
            Matrix<double> gram = jacobian.TransposeThisAndMultiply(jacobian) + shift * Matrix<double>.Build.DenseIdentity(jacobian.ColumnCount);
            Matrix<double> gradients = Jacobian(model, theta, rows).Transpose(); // P × m
            Matrix<double> solved = gram.Cholesky().Solve(gradients);
            for (int i = 0; i < rows.Count; i++)
                sum[i] += Math.Sqrt(Math.Max(0, shift * gradients.Column(i).DotProduct(solved.Column(i))));
        }
        return sum.Select(s => s / model.NetworkCount).ToArray();
    }

    /// <summary>∇θ f of each row (skewed features compressed, then standardised, as the model does), one row per input row.</summary>
    private static Matrix<double> Jacobian(KareRegressionModelParameters model, double[] theta, IReadOnlyList<float[]> rows)
    {
        int d = model.Architecture.InputCount, width = model.Architecture.HiddenWidths[0];
        int biasOffset = width * d, outputOffset = biasOffset + width;
        var jacobian = Matrix<double>.Build.Dense(rows.Count, (int)model.Architecture.ParameterCount);
        var z = new double[d];
        for (int r = 0; r < rows.Count; r++)
        {
            for (int i = 0; i < d; i++)
                z[i] = (FeatureCompression.Apply(rows[r][i], model.FeatureCompressionScales[i]) - model.FeatureMeans[i]) / model.FeatureScales[i];
            for (int u = 0; u < width; u++)
            {
                double h = theta[biasOffset + u];
                for (int i = 0; i < d; i++)
                    h += theta[u * d + i] * z[i];
                double cdf = 0.5 * (1 + SpecialFunctions.Erf(h / Math.Sqrt(2)));
                double value = h * cdf, slope = cdf + h * Math.Exp(-0.5 * h * h) / Math.Sqrt(2 * Math.PI);
                double back = theta[outputOffset + u] * slope;
                for (int i = 0; i < d; i++)
                    jacobian[r, u * d + i] = back * z[i];
                jacobian[r, biasOffset + u] = back;
                jacobian[r, outputOffset + u] = value;
            }
            jacobian[r, outputOffset + width] = 1;
        }
        return jacobian;
    }
}
