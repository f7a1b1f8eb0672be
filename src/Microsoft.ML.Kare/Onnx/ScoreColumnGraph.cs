using System;
using Microsoft.ML.Data;
using Microsoft.ML.Model.OnnxConverter;

namespace Microsoft.ML.Kare.Onnx;

/// <summary>
/// The ML.NET columns a KARE model's prediction fills in an ONNX graph: the regression score and its interval bounds,
/// the multiclass score vector and predicted label. ML.NET's scorers declare the columns and hand their variable names
/// to the model (<c>outputNames</c>); these methods write them.
/// </summary>
internal static class ScoreColumnGraph
{
    /// <summary>
    /// The score's variable among the names a predictor gets: [Score], or [PredictedLabel, Score] when the scorer adds a
    /// predicted label (binary and multiclass); ML.NET's own predictors read them this way.
    /// </summary>
    public static string Score(string[] outputNames) => outputNames.Length >= 2 ? outputNames[1] : outputNames[0];

    /// <summary>
    /// The columns of a regression model that binds itself (outputs [Score, LowerBound, UpperBound], or [Score] without
    /// intervals): <paramref name="predict"/>(graph, features, output) writes the score, then the bounds follow. False
    /// when the graph does not compute the schema's feature column.
    /// </summary>
    public static bool RegressionColumns(OnnxContext context, RoleMappedSchema schema, string[] outputNames, string modelName,
        KarePredictionInterval? interval, Action<OnnxGraph, string, string> predict)
    {
        string? features = Features(context, schema);
        if (features is null)
            return false;
        var graph = new OnnxGraph(context, modelName);
        predict(graph, features, outputNames[0]);
        IntervalBounds(graph, outputNames, interval);
        return true;
    }

    /// <summary>The variable of the schema's feature column, or null when the graph does not compute that column.</summary>
    private static string? Features(OnnxContext context, RoleMappedSchema schema)
    {
        if (schema.Feature is not { } feature || !context.ContainsColumn(feature.Name))
            return null;
        return context.GetVariableName(feature.Name);
    }

    /// <summary>
    /// For a regression model that binds itself (outputs [Score, LowerBound, UpperBound], in the order of its output
    /// schema): the bounds Score ∓ the half-width; nothing when the model has no intervals (its outputs are [Score]).
    /// </summary>
    private static void IntervalBounds(OnnxGraph graph, string[] outputNames, KarePredictionInterval? interval)
    {
        if (interval is null)
            return;
        string halfWidth = graph.Constant("KareHalfWidth", interval.HalfWidth);
        graph.ApplyInto("Sub", outputNames[1], outputNames[0], halfWidth);
        graph.ApplyInto("Add", outputNames[2], outputNames[0], halfWidth);
    }

    /// <summary>
    /// The multiclass columns from the regression outputs f ([N, c]): Score = softmax(T·f) over the classes and, when
    /// the scorer asks for it, PredictedLabel = 1 + the index of the largest score (ML.NET's key values count from 1,
    /// and its argmax, like ONNX's, takes the first of equal scores).
    /// </summary>
    public static void MulticlassColumns(OnnxGraph graph, string outputs, double temperature, string[] outputNames)
    {
        string score = Score(outputNames);
        string logits = graph.Apply("Mul", outputs, graph.Constant("KareTemperature", temperature));
        graph.ApplyInto("Softmax", score, logits).AddAttribute("axis", 1L);
        if (outputNames.Length < 2)
            return;
        string index = graph.Apply("ArgMax", new[] { score }, out var argMax);
        argMax.AddAttribute("axis", 1L);
        argMax.AddAttribute("keepdims", 1L);
        string key = graph.Apply("Add", index, graph.Int64Constant("KareOne", new long[] { 1 }, 1));
        graph.ApplyInto("Cast", outputNames[0], key).AddAttribute("to", typeof(uint));
    }
}
