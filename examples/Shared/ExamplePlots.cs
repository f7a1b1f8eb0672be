using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ScottPlot;

namespace Microsoft.ML.Kare.Examples;

/// <summary>PNG plots of the training examples, drawn with ScottPlot.</summary>
public static class ExamplePlots
{
    private const int Width = 800, Height = 600;

    /// <summary>Predicted against actual values with the diagonal y = x.</summary>
    /// <param name="path">The PNG to write.</param>
    /// <param name="title">The plot's title.</param>
    /// <param name="actual">Held-out labels.</param>
    /// <param name="predicted">The model's predictions for them.</param>
    /// <param name="intervals">Each prediction's interval (lower, upper) and its coverage, drawn as vertical bars; or null.</param>
    public static void PredictedVersusActual(string path, string title, IReadOnlyList<double> actual, IReadOnlyList<double> predicted,
        (IReadOnlyList<double> Lower, IReadOnlyList<double> Upper, double Coverage)? intervals = null)
    {
        var plot = new Plot();
        double low = Math.Min(actual.Min(), predicted.Min()), high = Math.Max(actual.Max(), predicted.Max());
        if (intervals is var (lower, upper, coverage))
        {
            int covered = 0;
            for (int i = 0; i < actual.Count; i++)
            {
                var bar = plot.Add.Line(actual[i], lower[i], actual[i], upper[i]);
                bool inside = lower[i] <= actual[i] && actual[i] <= upper[i];
                covered += inside ? 1 : 0;
                bar.Color = (inside ? Colors.SteelBlue : Colors.OrangeRed).WithAlpha(0.35);
                if (i == 0)
                    bar.LegendText = $"{coverage:P0} prediction intervals";
            }
            plot.Add.Annotation($"{covered} of {actual.Count} held-out labels inside their interval ({covered / (double)actual.Count:P0})", Alignment.LowerRight);
        }
        var diagonal = plot.Add.Line(low, low, high, high);
        diagonal.LinePattern = LinePattern.Dashed;
        diagonal.Color = Colors.Gray;
        diagonal.LegendText = "predicted = actual";
        var points = plot.Add.ScatterPoints(actual.ToArray(), predicted.ToArray());
        points.LegendText = "held-out rows";
        plot.Title(title);
        plot.XLabel("actual");
        plot.YLabel("predicted");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>
    /// KARE training curve: ρ on the training rows (left axis) and the held-out error of kernel ridge regression
    /// (right axis) per epoch, with the selected epoch marked. The held-out error is the mean squared error of the
    /// regression on standardised targets (±1 targets for classifiers).
    /// </summary>
    public static void TrainingCurve(string path, string title, IReadOnlyList<KareEpochSummary> curve, int selectedEpoch)
    {
        var plot = new Plot();
        double[] epochs = curve.Select(s => (double)s.Epoch).ToArray();
        var kare = plot.Add.Scatter(epochs, curve.Select(s => s.Kare).ToArray());
        kare.LegendText = "KARE ρ on the training rows (left axis)";
        kare.MarkerSize = 0;
        var heldOut = plot.Add.Scatter(epochs, curve.Select(s => s.ValidationError).ToArray());
        heldOut.LegendText = "held-out MSE of the regression (right axis)";
        heldOut.MarkerSize = 0;
        heldOut.Axes.YAxis = plot.Axes.Right;
        var selected = plot.Add.VerticalLine(selectedEpoch);
        selected.LinePattern = LinePattern.Dashed;
        selected.Color = Colors.Gray;
        selected.LegendText = $"selected epoch {selectedEpoch}";
        plot.Title(title);
        plot.XLabel("epoch");
        plot.Axes.Left.Label.Text = "KARE ρ";
        plot.Axes.Right.Label.Text = "held-out MSE";
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>ROC curves (true against false positive rate), one per named model, with the chance diagonal.</summary>
    public static void RocCurves(string path, string title, IReadOnlyList<(string Name, IReadOnlyList<bool> Labels, IReadOnlyList<double> Scores)> models)
    {
        var plot = new Plot();
        var chance = plot.Add.Line(0, 0, 1, 1);
        chance.LinePattern = LinePattern.Dashed;
        chance.Color = Colors.Gray;
        foreach (var (name, labels, scores) in models)
        {
            var (falsePositive, truePositive) = Roc(labels, scores);
            var line = plot.Add.Scatter(falsePositive, truePositive);
            line.MarkerSize = 0;
            line.LegendText = name;
        }
        plot.Title(title);
        plot.XLabel("false positive rate");
        plot.YLabel("true positive rate");
        plot.Axes.SetLimits(-0.02, 1.02, -0.02, 1.02);
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>ROC points from scores, ties handled by moving diagonally.</summary>
    public static (double[] FalsePositiveRate, double[] TruePositiveRate) Roc(IReadOnlyList<bool> labels, IReadOnlyList<double> scores)
    {
        int positives = labels.Count(l => l), negatives = labels.Count - positives;
        var order = Enumerable.Range(0, labels.Count).OrderByDescending(i => scores[i]).ToArray();
        var falsePositive = new List<double> { 0 };
        var truePositive = new List<double> { 0 };
        int tp = 0, fp = 0;
        for (int k = 0; k < order.Length; k++)
        {
            if (labels[order[k]]) tp++; else fp++;
            if (k + 1 < order.Length && scores[order[k + 1]] == scores[order[k]])
                continue;
            falsePositive.Add(negatives == 0 ? 0 : (double)fp / negatives);
            truePositive.Add(positives == 0 ? 0 : (double)tp / positives);
        }
        return (falsePositive.ToArray(), truePositive.ToArray());
    }

    /// <summary>Confusion matrix as a heatmap of row-normalised counts, each cell labelled with its count.</summary>
    public static void ConfusionMatrix(string path, string title, IReadOnlyList<string> classNames, int[,] counts)
    {
        int k = classNames.Count;
        var fractions = new double[k, k];
        for (int actual = 0; actual < k; actual++)
        {
            double rowTotal = Enumerable.Range(0, k).Sum(p => counts[actual, p]);
            for (int predicted = 0; predicted < k; predicted++)
                fractions[actual, predicted] = rowTotal == 0 ? 0 : counts[actual, predicted] / rowTotal;
        }

        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(fractions);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(heatmap).Label = "fraction of the actual class";
        // Row r of the data is drawn at y = k − 1 − r (first row on top), column c at x = c.
        for (int actual = 0; actual < k; actual++)
            for (int predicted = 0; predicted < k; predicted++)
            {
                var text = plot.Add.Text(counts[actual, predicted].ToString(CultureInfo.InvariantCulture), predicted, k - 1 - actual);
                text.LabelFontSize = 28;
                text.LabelBold = true;
                text.LabelFontColor = fractions[actual, predicted] > 0.5 ? Colors.Black : Colors.White;
                text.LabelAlignment = Alignment.MiddleCenter;
            }
        double[] positions = Enumerable.Range(0, k).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.SetTicks(positions, classNames.ToArray());
        plot.Axes.Left.SetTicks(positions.Reverse().ToArray(), classNames.ToArray());
        plot.Title(title);
        plot.XLabel("predicted class");
        plot.YLabel("actual class");
        plot.SavePng(path, Width, Height);
    }
}
