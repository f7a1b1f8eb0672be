using System.IO;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Kare;

/// <summary>Saves and loads a regression model's <see cref="KarePredictionInterval"/> in its own digested field block.</summary>
internal static class PredictionIntervalFile
{
    // *** Binary format ***
    // long: byte count b of the fields; then the fields:
    //   double: coverage (0: the model has no intervals, and nothing else follows)
    //   double: half-width (positive infinity allowed)
    //   int: calibration rows
    //   int: calibration (KareIntervalCalibration)
    // byte[32]: SHA-256 of the b bytes of the fields

    /// <summary>Writes <paramref name="interval"/>, or the absence of intervals when it is null, as above.</summary>
    public static void Save(BinaryWriter writer, KarePredictionInterval? interval)
    {
        ModelIntegrity.WriteFields(writer, fields =>
        {
            fields.Write(interval?.Coverage ?? 0.0);
            if (interval is null)
                return;
            fields.Write(interval.HalfWidth);
            fields.Write(interval.CalibrationRowCount);
            fields.Write((int)interval.Calibration);
        });
    }

    /// <summary>Reads what <see cref="Save"/> wrote, checking every value; null when the model has no intervals.</summary>
    public static KarePredictionInterval? Load(IHost host, BinaryReader reader, string model)
    {
        BinaryReader fields = ModelIntegrity.ReadFields(host, reader, model);
        double coverage = fields.ReadDouble();
        KarePredictionInterval? interval = null;
        if (coverage != 0)
        {
            double halfWidth = fields.ReadDouble();
            int rows = fields.ReadInt32();
            int calibration = fields.ReadInt32();
            interval = new KarePredictionInterval(coverage, halfWidth, rows, (KareIntervalCalibration)calibration);
            string? problem = interval.FindProblem();
            host.CheckDecode(problem is null, $"The {model} model's prediction interval is invalid: {problem}");
        }
        ModelIntegrity.EndFields(host, fields, model);
        return interval;
    }

}
