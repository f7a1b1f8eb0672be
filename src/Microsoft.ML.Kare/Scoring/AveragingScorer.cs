using System;

namespace Microsoft.ML.Kare.Scoring;

/// <summary>Scores one row into its outputs: a network's scorer, or an ensemble's.</summary>
internal interface IRowScorer
{
    /// <summary>Number of features a row has.</summary>
    int InputCount { get; }

    /// <summary>Number of outputs c.</summary>
    int OutputCount { get; }

    /// <summary>Writes the c outputs of the row <paramref name="features"/> (raw, length d) into <paramref name="output"/>.</summary>
    void Score(ReadOnlySpan<float> features, Span<float> output);
}

/// <summary>
/// The average of several scorers' outputs (an ensemble of the networks of cross-validation folds): each output is the
/// mean of the members' outputs for that row, summed in double precision in member order. Immutable and thread-safe:
/// each thread keeps its own scratch.
/// </summary>
internal sealed class AveragingScorer : IRowScorer
{
    private readonly IRowScorer[] _members;

    [ThreadStatic]
    private static float[]? t_memberOutput;

    [ThreadStatic]
    private static double[]? t_sum;

    public AveragingScorer(IRowScorer[] members)
    {
        if (members.Length == 0)
            throw new ArgumentException("An ensemble needs at least one member.", nameof(members));
        foreach (IRowScorer member in members)
        {
            if (member.InputCount != members[0].InputCount || member.OutputCount != members[0].OutputCount)
                throw new ArgumentException("The members of an ensemble must have the same inputs and outputs.", nameof(members));
        }
        _members = members;
    }

    public int InputCount => _members[0].InputCount;

    public int OutputCount => _members[0].OutputCount;

    public void Score(ReadOnlySpan<float> features, Span<float> output)
    {
        int outputs = OutputCount;
        float[] memberOutput = t_memberOutput is { } buffer && buffer.Length >= outputs ? buffer : t_memberOutput = new float[outputs];
        double[] sum = t_sum is { } sums && sums.Length >= outputs ? sums : t_sum = new double[outputs];
        Array.Clear(sum, 0, outputs);
        foreach (IRowScorer member in _members)
        {
            member.Score(features, memberOutput.AsSpan(0, outputs));
            for (int k = 0; k < outputs; k++)
                sum[k] += memberOutput[k];
        }
        for (int k = 0; k < outputs; k++)
            output[k] = (float)(sum[k] / _members.Length);
    }
}
