using System;
using System.Collections.Generic;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;

namespace Microsoft.ML.Kare.Benchmarks.Suite;

/// <summary>
/// A cross-validated RBF kernel ridge regression, written here independently of the trainers as a reference model for
/// runs whose peers cannot come from <c>peers.txt</c> (subsampled training rows): the suite's <c>sk:krr_rbf_cv</c>
/// protocol (features and label standardised on the training rows; k(x, z) = exp(−γ‖x − z‖²); (K + αI)c = y; α and γ
/// from {1e-3, 1e-2, 1e-1, 1}², chosen by 5 contiguous folds (the first n mod 5 one row larger), the score averaged over
/// folds), refitted on all training rows. For classification the targets are the ±1 one-hot columns, the prediction their argmax, and the folds' score
/// accuracy (a kernel ridge classifier, standing in for the cross-validated RBF SVC). Ties go to the first of the grid
/// with α varying slowest, as scikit-learn's grid search orders it. Unlike scikit-learn's pipeline, features and label
/// are standardised once on all training rows rather than within each fold, classification folds are not stratified,
/// and a fold whose labels are constant scores −(residual sum of squares).
/// </summary>
internal static class RbfKernelRidgeReference
{
    private static readonly double[] Grid = { 1e-3, 1e-2, 1e-1, 1 };

    private const int Folds = 5;

    /// <summary>Predictions for the test rows: the real-valued label (regression) or the class index (classification).</summary>
    /// <param name="train">Training rows' features.</param>
    /// <param name="labels">Training labels: real, 0/1, or a class index.</param>
    /// <param name="test">Test rows' features.</param>
    /// <param name="classes">0 for regression, else the number of classes (2 for binary).</param>
    public static double[] Predict(float[][] train, float[] labels, float[][] test, int classes)
    {
        int n = train.Length, d = train[0].Length;
        if (n < Folds)
            throw new ArgumentException($"{Folds}-fold cross-validation needs at least {Folds} training rows, not {n}.", nameof(train));
        var (mean, scale) = Moments(train, d);
        double[][] x = train.Select(r => Standardize(r, mean, scale)).ToArray();
        double[][] z = test.Select(r => Standardize(r, mean, scale)).ToArray();
        Matrix<double> targets = Targets(labels, classes, out double labelMean, out double labelScale);

        var scores = new double[Grid.Length, Grid.Length]; // [γ, α]
        for (int g = 0; g < Grid.Length; g++)
        {
            Matrix<double> kernel = Kernel(x, x, Grid[g]);
            for (int fold = 0; fold < Folds; fold++)
            {
                // Contiguous folds, the first n mod 5 one row larger (scikit-learn's KFold without shuffling).
                int start = fold * (n / Folds) + Math.Min(fold, n % Folds), end = start + n / Folds + (fold < n % Folds ? 1 : 0);
                int[] fit = Enumerable.Range(0, n).Where(i => i < start || i >= end).ToArray();
                int[] held = Enumerable.Range(start, end - start).ToArray();
                Matrix<double> againstFit = Columns(kernel, fit);
                Matrix<double> kFit = Rows(againstFit, fit), kHeld = Rows(againstFit, held);
                var eigen = kFit.Evd(Symmetricity.Symmetric);
                Matrix<double> projected = eigen.EigenVectors.TransposeThisAndMultiply(Rows(targets, fit));
                for (int a = 0; a < Grid.Length; a++)
                {
                    double alpha = Grid[a];
                    Matrix<double> scaled = projected.Clone();
                    for (int i = 0; i < scaled.RowCount; i++)
                        scaled.SetRow(i, scaled.Row(i) / (Math.Max(eigen.EigenValues[i].Real, 0) + alpha));
                    Matrix<double> predicted = kHeld * (eigen.EigenVectors * scaled);
                    scores[g, a] += Score(predicted, Rows(targets, held), classes) / Folds;
                }
            }
        }
        double bestScore = double.NegativeInfinity, bestGamma = Grid[0], bestAlpha = Grid[0];
        for (int a = 0; a < Grid.Length; a++)
        {
            for (int g = 0; g < Grid.Length; g++)
            {
                if (scores[g, a] > bestScore)
                    (bestScore, bestGamma, bestAlpha) = (scores[g, a], Grid[g], Grid[a]);
            }
        }

        Matrix<double> full = Kernel(x, x, bestGamma) + Matrix<double>.Build.DenseIdentity(n) * bestAlpha;
        Matrix<double> outputs = Kernel(z, x, bestGamma) * full.Cholesky().Solve(targets);
        return Enumerable.Range(0, z.Length)
            .Select(i => classes == 0 ? outputs[i, 0] * labelScale + labelMean : ArgMax(outputs.Row(i).ToArray()))
            .ToArray();
    }

    private static (double[] Mean, double[] Scale) Moments(float[][] rows, int d)
    {
        var mean = new double[d];
        var scale = new double[d];
        for (int j = 0; j < d; j++)
        {
            mean[j] = rows.Average(r => (double)r[j]);
            double variance = rows.Average(r => (r[j] - mean[j]) * (r[j] - mean[j]));
            scale[j] = variance > 0 ? Math.Sqrt(variance) : 1;
        }
        return (mean, scale);
    }

    private static double[] Standardize(float[] row, double[] mean, double[] scale)
        => row.Select((v, j) => (v - mean[j]) / scale[j]).ToArray();

    /// <summary>The standardised label as one column (regression), or the ±1 one-hot columns.</summary>
    private static Matrix<double> Targets(float[] labels, int classes, out double mean, out double scale)
    {
        mean = 0;
        scale = 1;
        if (classes > 0)
            return Matrix<double>.Build.Dense(labels.Length, classes, (i, k) => (int)labels[i] == k ? 1 : -1);
        double m = labels.Average(v => (double)v);
        double sd = Math.Sqrt(labels.Average(v => (v - m) * (v - m)));
        (mean, scale) = (m, sd > 0 ? sd : 1);
        double s = scale;
        return Matrix<double>.Build.Dense(labels.Length, 1, (i, _) => (labels[i] - m) / s);
    }

    private static Matrix<double> Kernel(double[][] a, double[][] b, double gamma)
        => Matrix<double>.Build.Dense(a.Length, b.Length, (i, j) =>
        {
            double squared = 0;
            for (int k = 0; k < a[i].Length; k++)
            {
                double difference = a[i][k] - b[j][k];
                squared += difference * difference;
            }
            return Math.Exp(-gamma * squared);
        });

    private static Matrix<double> Rows(Matrix<double> m, IReadOnlyList<int> rows)
        => Matrix<double>.Build.Dense(rows.Count, m.ColumnCount, (i, j) => m[rows[i], j]);

    private static Matrix<double> Columns(Matrix<double> m, IReadOnlyList<int> columns)
        => Matrix<double>.Build.Dense(m.RowCount, columns.Count, (i, j) => m[i, columns[j]]);

    /// <summary>R² of the held-out rows (regression, as scikit-learn scores a fold) or their accuracy.</summary>
    private static double Score(Matrix<double> predicted, Matrix<double> actual, int classes)
    {
        int rows = predicted.RowCount;
        if (classes > 0)
            return Enumerable.Range(0, rows).Count(i => ArgMax(predicted.Row(i).ToArray()) == ArgMax(actual.Row(i).ToArray())) / (double)rows;
        double mean = actual.Column(0).Average();
        double residual = 0, total = 0;
        for (int i = 0; i < rows; i++)
        {
            residual += Math.Pow(actual[i, 0] - predicted[i, 0], 2);
            total += Math.Pow(actual[i, 0] - mean, 2);
        }
        return total > 0 ? 1 - residual / total : -residual;
    }

    private static int ArgMax(double[] values)
    {
        int best = 0;
        for (int k = 1; k < values.Length; k++)
        {
            if (values[k] > values[best])
                best = k;
        }
        return best;
    }
}
