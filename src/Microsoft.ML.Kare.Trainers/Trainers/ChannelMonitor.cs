using System.Threading;
using System;
using Microsoft.ML.Kare.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Kare;

/// <summary>How a trainer's training-curve points appear in ML.NET's progress channel and log.</summary>
/// <param name="MetricNames">The progress channel's metric names.</param>
/// <param name="Unit">What the points count ("epochs", "steps").</param>
/// <param name="Index">The point's epoch or step.</param>
/// <param name="Metrics">The point's metric values, in the order of <paramref name="MetricNames"/>; NaN: not measured at this point.</param>
/// <param name="Message">The log line of a point, given the total.</param>
internal sealed record ProgressFormat<TProgress>(string[] MetricNames, string Unit, Func<TProgress, int> Index, Func<TProgress, double[]> Metrics,
    Func<TProgress, int, string> Message);

/// <summary>
/// Forwards a training backend's messages and training-curve points to the ML.NET channel, the progress channel (which
/// shows the latest measured value of each metric) and the options' <see cref="IProgress{T}"/>; checks the options'
/// cancellation token and the host for cancellation.
/// </summary>
internal sealed class ChannelMonitor<TProgress> : ITrainingMonitor<TProgress>
{
    private readonly IHost _host;
    private readonly IChannel _channel;
    private readonly IProgress<TProgress>? _progress;
    private readonly CancellationToken _cancellation;
    private readonly ProgressFormat<TProgress> _format;
    private readonly double[] _latest;
    private int _index;
    private int _total;

    public ChannelMonitor(IHost host, IChannel channel, IProgressChannel progressChannel, ProgressFormat<TProgress> format,
        IProgress<TProgress>? progress, CancellationToken cancellation)
    {
        _host = host;
        _channel = channel;
        _progress = progress;
        _cancellation = cancellation;
        _format = format;
        _latest = new double[format.MetricNames.Length];
        Array.Fill(_latest, double.NaN);
        progressChannel.SetHeader(new ProgressHeader(format.MetricNames, new[] { format.Unit }), entry =>
        {
            entry.SetProgress(0, Volatile.Read(ref _index), Math.Max(1, Volatile.Read(ref _total)));
            for (int i = 0; i < _latest.Length; i++)
                entry.SetMetric(i, Volatile.Read(ref _latest[i]));
        });
    }

    public void Info(string message) => _channel.Info(message);

    public void Warning(string message) => _channel.Warning(message);

    public void Report(TProgress progress, int total)
    {
        double[] metrics = _format.Metrics(progress);
        for (int i = 0; i < _latest.Length && i < metrics.Length; i++)
        {
            if (!double.IsNaN(metrics[i]))
                Volatile.Write(ref _latest[i], metrics[i]); // a metric measured on a schedule keeps its latest value
        }
        Volatile.Write(ref _total, total);
        Volatile.Write(ref _index, _format.Index(progress));
        _channel.Info(_format.Message(progress, total));
        _progress?.Report(progress);
    }

    public void CheckAlive()
    {
        _cancellation.ThrowIfCancellationRequested();
        _host.CheckAlive();
    }
}
