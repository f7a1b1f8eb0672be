namespace Microsoft.ML.Kare.Solvers;

/// <summary>Choosing from a grid of relative ridges λ̃ by an error measured at each one.</summary>
internal static class RidgeGrid
{
    /// <summary>The index of the smallest value; NaN values lose to any number (all NaN: 0).</summary>
    public static int ArgMin(double[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] < values[best] || double.IsNaN(values[best]))
                best = i;
        }
        return best;
    }
}
