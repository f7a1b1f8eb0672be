using System;

namespace Microsoft.ML.Kare.Training;

/// <summary>A trained model's state: θ and, for linearised methods, the linearisation point θ_k (θ itself otherwise).</summary>
internal sealed record ModelState(double[] Parameters, double[] Anchor)
{
    /// <summary>The state of a network that is not linearised (its anchor is θ itself).</summary>
    public static ModelState Of(double[] parameters) => new(parameters, parameters);
}

/// <summary>What the epoch loop does after an epoch.</summary>
internal enum EpochVerdict
{
    Continue,

    /// <summary>The objective, kernel, parameters or held-out error stopped being finite: stop and keep the best epoch so far.</summary>
    Diverged,

    /// <summary>No improvement for the patience: stop.</summary>
    StopEarly,
}

/// <summary>
/// Chooses the epoch whose model the fit keeps, and decides when training stops (docs/maths.md, "Choosing the epoch and
/// the ridge"). With a hold-out, the kept epoch is the one with the lowest held-out error among the measured epochs
/// (and its λ̃); without one, the last epoch. Divergence stops training and keeps the last sound state; early stopping
/// stops after <c>patience</c> epochs without a better held-out error, or, without a hold-out, without a relative fall of
/// the objective by <see cref="PlateauRelativeImprovement"/>.
/// </summary>
internal sealed class EpochSelector
{
    /// <summary>Optimiser steps without a better held-out error after which mini-batch training stops by default.</summary>
    public const int AutomaticPatienceSteps = 400;

    /// <summary>Relative decrease of the training objective that counts as progress for early stopping without a hold-out.</summary>
    public const double PlateauRelativeImprovement = 1e-3;

    private readonly bool _heldOut;
    private readonly int _patience;
    private readonly int _epochs;
    private ModelState _previousEpochStart;
    private double _bestObjective = double.PositiveInfinity;
    private int _bestObjectiveEpoch;

    /// <param name="heldOut">True when held-out errors choose the epoch.</param>
    /// <param name="patience">Epochs without improvement before stopping (0: never).</param>
    /// <param name="epochs">The last epoch.</param>
    /// <param name="initial">The model at initialisation (epoch 0).</param>
    public EpochSelector(bool heldOut, int patience, int epochs, ModelState initial)
    {
        _heldOut = heldOut;
        _patience = patience;
        _epochs = epochs;
        Best = initial;
        _previousEpochStart = initial;
    }

    public ModelState Best { get; private set; }

    public int BestEpoch { get; private set; }

    /// <summary>The lowest held-out error so far (+∞ before any, or without a hold-out).</summary>
    public double BestError { get; private set; } = double.PositiveInfinity;

    /// <summary>The λ̃ of <see cref="BestError"/> (NaN without a hold-out or for network readouts).</summary>
    public double BestRelativeRidge { get; private set; } = double.NaN;

    /// <summary>
    /// Full-batch epochs without a better held-out error after which training stops by default. On the public suite (20
    /// data sets, 5 splits) it left the mean rank per task as it was or better (regression 2.78 → 2.67) and cut fit times
    /// by up to 3× (hpc 98 → 35 s, ames 92 → 34 s); the held-out error had mostly settled by epoch 20–60.
    /// </summary>
    public const int AutomaticFullBatchPatience = 20;

    /// <summary>
    /// The automatic early-stopping patience, in epochs: with held-out errors, <see cref="AutomaticFullBatchPatience"/>
    /// epochs for full-batch training and, for mini-batches, about <see cref="AutomaticPatienceSteps"/> optimiser steps,
    /// at least <see cref="ValidationSchedule.EveryEpochValidations"/> and at most <see cref="AutomaticFullBatchPatience"/>
    /// epochs without a better held-out error; without held-out errors (GCV), none for full batches (the paper's
    /// protocol). On diamonds (21 mini-batches per epoch) the held-out error was best near epoch 20 and rose to 3.5× that
    /// by epoch 70, so the 100 epochs of the full-batch protocol spent most of the fit after the kept epoch. With two or
    /// three mini-batches per epoch, 400 steps were 134–200 epochs: the simulation at 5,000 rows × 50 features kept epoch
    /// 0 and still trained all 100 epochs (79 s).
    /// </summary>
    public static int AutomaticPatience(int batchesPerEpoch, bool heldOut)
        => batchesPerEpoch <= 1
            ? heldOut ? AutomaticFullBatchPatience : 0
            : Math.Clamp((AutomaticPatienceSteps + batchesPerEpoch - 1) / batchesPerEpoch, ValidationSchedule.EveryEpochValidations, AutomaticFullBatchPatience);

    /// <summary>
    /// Records epoch <paramref name="epoch"/> (0: before training): its objective, its held-out errors when measured,
    /// whether it diverged, the state it started from, and (called only when it becomes the best) its final state.
    /// </summary>
    public EpochVerdict Record(int epoch, double objective, HeldOutErrors? heldOut, bool diverged, ModelState epochStart, Func<ModelState> current)
    {
        if (diverged)
        {
            if (!_heldOut)
            {
                // ρ of an epoch is measured at the parameters it started from: if it is finite the last update broke the
                // kernel, so keep those; if not, they were already broken, so keep where the previous epoch started.
                bool startWasSound = double.IsFinite(objective);
                ModelState kept = startWasSound ? epochStart : _previousEpochStart;
                Best = ModelState.Of(kept.Parameters);
                BestEpoch = Math.Max(0, startWasSound ? epoch - 1 : epoch - 2);
            }
            return EpochVerdict.Diverged;
        }
        if (!_heldOut || heldOut is not null && heldOut.BestError < BestError)
        {
            BestEpoch = epoch;
            Best = current();
            if (heldOut is not null)
                (BestError, BestRelativeRidge) = (heldOut.BestError, heldOut.BestRelativeRidge);
        }
        _previousEpochStart = epochStart;
        return ShouldStopEarly(epoch, objective, measured: heldOut is not null) ? EpochVerdict.StopEarly : EpochVerdict.Continue;
    }

    /// <summary>The last epoch's update broke the model (found after training): keep the state that epoch started from.</summary>
    public void FallBackToLastEpochStart()
    {
        BestEpoch = _epochs - 1;
        Best = ModelState.Of(_previousEpochStart.Parameters);
    }

    /// <summary>The epoch training last improved at (held-out error, or a plateau of the objective).</summary>
    public int LastImprovement => _heldOut ? BestEpoch : _bestObjectiveEpoch;

    private bool ShouldStopEarly(int epoch, double objective, bool measured)
    {
        if (_patience <= 0 || epoch >= _epochs)
            return false;
        if (!_heldOut && objective < _bestObjective * (1 - PlateauRelativeImprovement))
        {
            _bestObjective = objective;
            _bestObjectiveEpoch = epoch;
        }
        return epoch - LastImprovement >= _patience && (!_heldOut || measured);
    }
}

/// <summary>
/// When the held-out error is measured: after each of the first <see cref="EveryEpochValidations"/> epochs and the last;
/// in between every <c>interval</c> epochs, or with 0 every max(1, epochs / <see cref="ScheduledValidations"/>). The
/// measurement (an eigendecomposition of the basis kernel and a cross kernel) costs about as much as a full-batch step,
/// so measuring it after every one of 100 epochs doubled the fit time; the schedule keeps the choice of epoch within a
/// few percent of the run.
/// </summary>
internal static class ValidationSchedule
{
    /// <summary>The held-out error is measured after each of the first this many epochs, then on a coarser schedule.</summary>
    public const int EveryEpochValidations = 10;

    /// <summary>After the first epochs, the automatic schedule measures the held-out error about this many more times.</summary>
    public const int ScheduledValidations = 20;

    public static bool IsDue(int epoch, int epochs, int interval)
    {
        if (epoch <= EveryEpochValidations || epoch == epochs)
            return true;
        int every = interval > 0 ? interval : Math.Max(1, epochs / ScheduledValidations);
        return epoch % every == 0;
    }
}
