using System;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>
/// The one temperature T ≥ 0 of the multiclass model's softmax(T·f) (docs/maths.md, "Classification"): it minimises the
/// weighted cross-entropy against the rows' classes with Platt's prior correction, so that the probabilities are
/// calibrated on outputs that did not see their own row and T stays finite on separable data. A row of class y, of which
/// there are n_y, has target (n_y + 1)/(n_y + c) for y and 1/(n_y + c) for every other class. The loss is convex in T;
/// its derivative dL/dT = Σ_i w_i (E_softmax(T f_i)[f_i] − E_target_i[f_i]) is increasing in T, and is found to vanish by
/// bisection.
/// </summary>
internal static class SoftmaxTemperature
{
    /// <summary>Largest temperature, relative to the spread of the regression outputs (a guard, rarely reached).</summary>
    private const double MaximumRelativeTemperature = 1e4;

    /// <summary>The fitted temperature (0 when the outputs carry no information about the classes).</summary>
    /// <param name="outputs">Leave-one-out outputs f, rows×c row-major; rows with a NaN output are ignored.</param>
    /// <param name="targets">±1 one-hot targets, rows×c row-major.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="classCount">c.</param>
    /// <param name="weights">Row weights, or null.</param>
    public static double Fit(double[] outputs, double[] targets, int rows, int classCount, double[]? weights)
    {
        var (label, classRows, spread) = Labels(outputs, targets, rows, classCount, weights);
        if (!(spread > 0))
            return 0;
        double Slope(double t) => LossSlope(t, outputs, label, classRows, classCount, weights);
        if (Slope(0) >= 0)
            return 0; // uniform probabilities
        double low = 0, high = 1.0 / spread, limit = MaximumRelativeTemperature / spread;
        while (Slope(high) < 0)
        {
            low = high;
            high *= 2;
            if (high >= limit)
                return limit;
        }
        for (int iteration = 0; iteration < 60 && high - low > 1e-9 * high; iteration++)
        {
            double middle = 0.5 * (low + high);
            if (Slope(middle) < 0)
                low = middle;
            else
                high = middle;
        }
        return 0.5 * (low + high);
    }

    /// <summary>
    /// Each usable row's class (−1 for a row of weight 0 or with a non-finite output), the rows per class, and the mean
    /// spread max_k f_ik − min_k f_ik of the usable rows' outputs (0 when none is usable).
    /// </summary>
    private static (int[] Label, double[] ClassRows, double Spread) Labels(double[] outputs, double[] targets, int rows, int c, double[]? weights)
    {
        var label = new int[rows];
        var classRows = new double[c];
        double spread = 0;
        int used = 0;
        for (int i = 0; i < rows; i++)
        {
            label[i] = -1;
            double w = weights?[i] ?? 1.0;
            double max = double.NegativeInfinity, min = double.PositiveInfinity;
            bool finite = true;
            for (int k = 0; k < c; k++)
            {
                double f = outputs[(long)i * c + k];
                finite &= double.IsFinite(f);
                max = Math.Max(max, f);
                min = Math.Min(min, f);
            }
            if (!(w > 0) || !finite)
                continue;
            for (int k = 0; k < c; k++)
            {
                if (targets[(long)i * c + k] > 0)
                    label[i] = k;
            }
            classRows[label[i]] += 1;
            spread += max - min;
            used++;
        }
        return (label, classRows, used == 0 ? 0 : spread / used);
    }

    /// <summary>dL/dT at <paramref name="t"/>: Σ_i w_i (E_softmax(t f_i)[f_i] − E_target_i[f_i]).</summary>
    private static double LossSlope(double t, double[] outputs, int[] label, double[] classRows, int c, double[]? weights)
    {
        double total = 0;
        for (int i = 0; i < label.Length; i++)
        {
            if (label[i] < 0)
                continue;
            int y = label[i];
            double max = double.NegativeInfinity;
            for (int k = 0; k < c; k++)
                max = Math.Max(max, t * outputs[(long)i * c + k]);
            double z = 0, expected = 0, targetMean = 0;
            double other = 1.0 / (classRows[y] + c);
            double own = (classRows[y] + 1) * other;
            for (int k = 0; k < c; k++)
            {
                double f = outputs[(long)i * c + k];
                double e = Math.Exp(t * f - max);
                z += e;
                expected += e * f;
                targetMean += (k == y ? own : other) * f;
            }
            total += (weights?[i] ?? 1.0) * (expected / z - targetMean);
        }
        return total;
    }
}
