using System;
using System.Collections.Generic;
using Microsoft.ML.Data;

namespace Microsoft.ML.Kare.Examples;

/// <summary>One row of the KARE paper's simulation: 10 Gaussian features and a nonlinear single-index label.</summary>
public sealed class SimulationRow
{
    /// <summary>Number of features d.</summary>
    public const int FeatureCount = 10;

    [VectorType(FeatureCount)]
    public float[] Features { get; set; } = Array.Empty<float>();

    public float Label { get; set; }
}

/// <summary>
/// The simulation of "Training NTK to Generalize with KARE" (Schwab et al., 2025):
/// x ~ N(0, I_10), w ~ N(0, I_10), y = cos(γ·xᵀw) / (1 + exp(γ·xᵀw)) + σ·ε, ε ~ N(0, 1).
/// The paper uses n = 1000 rows split 800 for training and 200 for testing.
/// </summary>
public static class PaperSimulation
{
    /// <summary>Draws <paramref name="rowCount"/> rows; the same seed gives the same rows and the same direction w.</summary>
    public static List<SimulationRow> Generate(int rowCount, double gamma, double sigma, int seed)
    {
        var (features, labels) = GenerateArrays(rowCount, SimulationRow.FeatureCount, gamma, sigma, seed);
        var rows = new List<SimulationRow>(rowCount);
        for (int i = 0; i < rowCount; i++)
            rows.Add(new SimulationRow { Features = features[i], Label = labels[i] });
        return rows;
    }

    /// <summary>
    /// The same simulation with <paramref name="featureCount"/> features (the paper uses 10): x ~ N(0, I_d),
    /// w ~ N(0, I_d); with d = 10 and the same seed it draws exactly the rows of <see cref="Generate"/>.
    /// </summary>
    public static (float[][] Features, float[] Labels) GenerateArrays(int rowCount, int featureCount, double gamma, double sigma, int seed)
    {
        var random = new Random(seed);
        double Normal()
        {
            // Box–Muller.
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
        }

        var direction = new double[featureCount];
        for (int j = 0; j < direction.Length; j++)
            direction[j] = Normal();

        var features = new float[rowCount][];
        var labels = new float[rowCount];
        for (int i = 0; i < rowCount; i++)
        {
            var x = new float[featureCount];
            double index = 0;
            for (int j = 0; j < x.Length; j++)
            {
                double value = Normal();
                x[j] = (float)value;
                index += value * direction[j];
            }
            double u = gamma * index;
            features[i] = x;
            labels[i] = (float)(Math.Cos(u) / (1.0 + Math.Exp(u)) + sigma * Normal());
        }
        return (features, labels);
    }
}
