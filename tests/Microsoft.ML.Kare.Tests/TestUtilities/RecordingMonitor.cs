using System.Collections.Generic;
using Microsoft.ML.Kare.Backend;

namespace Microsoft.ML.Kare.Tests.TestUtilities;

/// <summary>A training monitor that records what the backend reports and never cancels.</summary>
internal sealed class RecordingMonitor : ITrainingMonitor
{
    public List<string> Messages { get; } = new();

    public List<string> Warnings { get; } = new();

    public List<KareEpochSummary> Epochs { get; } = new();

    /// <summary>Called after each recorded epoch (for example to observe the process while the fit runs).</summary>
    public System.Action<KareEpochSummary>? OnEpoch { get; init; }

    public void Info(string message) => Messages.Add(message);

    public void Warning(string message) => Warnings.Add(message);

    public void EpochCompleted(KareEpochSummary summary, int totalEpochs)
    {
        Epochs.Add(summary);
        OnEpoch?.Invoke(summary);
    }

    public void CheckAlive()
    {
    }
}
