using System.Collections.Generic;
using Microsoft.ML.Kare.Training;

namespace Microsoft.ML.Kare.Tests.TestUtilities;

/// <summary>A training monitor that records what the backend reports (KARE epochs, mean-field steps) and cancels only when told to.</summary>
internal sealed class RecordingMonitor : ITrainingMonitor<KareEpochSummary>, ITrainingMonitor<MeanFieldStepSummary>
{
    public List<string> Messages { get; } = new();

    public List<string> Warnings { get; } = new();

    public List<KareEpochSummary> Epochs { get; } = new();

    public List<MeanFieldStepSummary> Steps { get; } = new();

    /// <summary>Called after each recorded epoch (for example to observe the process while the fit runs).</summary>
    public System.Action<KareEpochSummary>? OnEpoch { get; init; }

    /// <summary>Number of <see cref="CheckAlive"/> calls so far.</summary>
    public int CheckAliveCalls { get; private set; }

    /// <summary>When set, the call to <see cref="CheckAlive"/> with this (1-based) number, and every later one, cancels.</summary>
    public int? CancelAtCheck { get; init; }

    public void Info(string message) => Messages.Add(message);

    public void Warning(string message) => Warnings.Add(message);

    public void Report(KareEpochSummary summary, int totalEpochs)
    {
        Epochs.Add(summary);
        OnEpoch?.Invoke(summary);
    }

    public void Report(MeanFieldStepSummary summary, int totalSteps) => Steps.Add(summary);

    public void CheckAlive()
    {
        CheckAliveCalls++;
        if (CheckAliveCalls >= CancelAtCheck)
            throw new System.OperationCanceledException($"Cancelled at check {CheckAliveCalls}.");
    }
}
