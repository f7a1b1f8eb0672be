using System;
using Microsoft.ML.Data;

namespace Microsoft.ML.Kare;

/// <summary>
/// Turns a trainer's label into the regression targets KARE fits: the label itself (regression), ±1 (binary
/// classification), or ±1 one-hot over the classes (multiclass classification; one kernel shared by all outputs, as in
/// the KARE paper).
/// </summary>
internal abstract class KareTargetEncoding
{
    /// <summary>Writes the targets of the current row; false when the label is missing or invalid (the row is skipped).</summary>
    public delegate bool TargetGetter(Span<double> targets);

    private KareTargetEncoding(int targetCount) => TargetCount = targetCount;

    /// <summary>Targets per row, c.</summary>
    public int TargetCount { get; }

    /// <summary>How the log describes a skipped label ("a missing or non-finite label").</summary>
    public abstract string InvalidLabelDescription { get; }

    public abstract TargetGetter CreateGetter(DataViewRowCursor cursor, DataViewSchema.Column label);

    /// <summary>A Single or Double label, skipped when not finite.</summary>
    public static KareTargetEncoding Regression { get; } = new RegressionEncoding();

    /// <summary>A Boolean label: true → +1, false → −1.</summary>
    public static KareTargetEncoding Binary { get; } = new BinaryEncoding();

    /// <summary>A key label with <paramref name="classCount"/> values: class k → +1 in output k, −1 elsewhere; key 0 (missing) is skipped.</summary>
    public static KareTargetEncoding OneHot(int classCount) => new OneHotEncoding(classCount);

    /// <summary>
    /// The number of distinct classes among rows with positive weight, reading ±1 targets as written by
    /// <see cref="Binary"/> (c = 1) or <see cref="OneHot"/> (c ≥ 2).
    /// </summary>
    public static int CountClasses(double[] targets, int rows, int targetCount, double[]? weights)
    {
        var seen = new bool[Math.Max(2, targetCount)];
        int count = 0;
        for (int i = 0; i < rows; i++)
        {
            if (weights is not null && !(weights[i] > 0))
                continue;
            int cls;
            if (targetCount == 1)
            {
                cls = targets[i] > 0 ? 1 : 0;
            }
            else
            {
                cls = 0;
                for (int k = 0; k < targetCount; k++)
                {
                    if (targets[(long)i * targetCount + k] > 0)
                    {
                        cls = k;
                        break;
                    }
                }
            }
            if (!seen[cls])
            {
                seen[cls] = true;
                count++;
            }
        }
        return count;
    }

    private sealed class RegressionEncoding() : KareTargetEncoding(1)
    {
        public override string InvalidLabelDescription => "a missing or non-finite label";

        public override TargetGetter CreateGetter(DataViewRowCursor cursor, DataViewSchema.Column label)
        {
            ValueGetter<double> get = RowCursorUtils.GetGetterAs<double>(NumberDataViewType.Double, cursor, label.Index);
            double value = 0;
            return targets =>
            {
                get(ref value);
                targets[0] = value;
                return double.IsFinite(value);
            };
        }
    }

    private sealed class BinaryEncoding() : KareTargetEncoding(1)
    {
        public override string InvalidLabelDescription => "a missing label";

        public override TargetGetter CreateGetter(DataViewRowCursor cursor, DataViewSchema.Column label)
        {
            ValueGetter<bool> get = cursor.GetGetter<bool>(label);
            bool value = false;
            return targets =>
            {
                get(ref value);
                targets[0] = value ? 1.0 : -1.0;
                return true;
            };
        }
    }

    private sealed class OneHotEncoding(int classCount) : KareTargetEncoding(classCount)
    {
        public override string InvalidLabelDescription => "a missing label (key value 0)";

        public override TargetGetter CreateGetter(DataViewRowCursor cursor, DataViewSchema.Column label)
        {
            ValueGetter<uint> get = cursor.GetGetter<uint>(label);
            uint value = 0;
            int classes = TargetCount;
            return targets =>
            {
                get(ref value);
                if (value == 0 || value > classes)
                    return false;
                targets.Fill(-1.0);
                targets[(int)value - 1] = 1.0;
                return true;
            };
        }
    }
}
