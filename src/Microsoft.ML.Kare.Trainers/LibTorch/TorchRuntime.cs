using System.Runtime.InteropServices;
using System.Threading;
using System;

namespace Microsoft.ML.Kare.LibTorch;

/// <summary>
/// Process-wide settings that must be in place before libtorch is first loaded.
/// </summary>
/// <remarks>
/// libtorch's OpenMP threads busy-wait between parallel regions by default. When the machine is shared (other
/// processes, parallel builds, several fits at once) the spinning threads starve each other: a KARE fit on the paper's
/// simulation took 49.6 s instead of 9.0 s with both cores busy elsewhere. With passive waiting it took 18.1 s loaded
/// and 11.6 s quiet. So, unless the user chose a policy, <c>OMP_WAIT_POLICY=PASSIVE</c> is set in the native
/// environment, which OpenMP reads once, when libtorch loads. .NET's Environment.SetEnvironmentVariable does not
/// reach the native environment on Unix, hence libc's setenv. <c>MKL_CBWR=AUTO</c> is set the same way, so that training
/// with the same seed, options and thread count is bit-identical. Then, where the application's copy of TorchSharp's
/// native library was not made loadable at build time, <see cref="LibTorchSharpFallback"/> loads a patched copy.
/// </remarks>
internal static class TorchRuntime
{
    private const string WaitPolicy = "OMP_WAIT_POLICY";
    private const string Reproducibility = "MKL_CBWR";
    private static readonly object InitializeLock = new();
    private static volatile bool _initialized;
    private static LibTorchSharpFallbackResult? _fallback;

    /// <summary>What the libLibTorchSharp.so fallback found and did (null before <see cref="Initialize"/>).</summary>
    public static LibTorchSharpFallbackResult? Fallback => _fallback;

    /// <summary>
    /// Call before the first use of TorchSharp in the process: prepares libtorch's environment and native library, then
    /// loads it. Later calls do nothing, except that when TorchSharp could not load its native library every call
    /// throws <see cref="InvalidOperationException"/> saying which libtorch package the platform needs (the TorchSharp
    /// error is the inner exception). Concurrent first calls wait for the first one, so none of them reaches TorchSharp
    /// before its native library is prepared.
    /// </summary>
    public static void Initialize()
    {
        if (!_initialized)
        {
            lock (InitializeLock)
            {
                if (!_initialized)
                {
                    if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable(WaitPolicy) is null)
                        SetNativeEnvironmentVariable(WaitPolicy, "PASSIVE");
                    // MKL picks kernels by memory alignment, so two fits with the same seed differed by ~4e-13 (even on
                    // one thread); conditional numerical reproducibility on the CPU's own code path makes them bit-identical.
                    if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable(Reproducibility) is null)
                        SetNativeEnvironmentVariable(Reproducibility, "AUTO");
                    _fallback = LibTorchSharpFallback.Apply();
                    _loadFailure = LoadTorchSharp(_fallback);
                    _initialized = true;
                }
            }
        }
        if (_loadFailure is { } failure)
            throw new InvalidOperationException(failure.Message, failure.Error);
    }

    private static LoadFailure? _loadFailure;

    private sealed record LoadFailure(string Message, Exception Error);

    /// <summary>Loads TorchSharp's native library (its static constructor does); null on success.</summary>
    private static LoadFailure? LoadTorchSharp(LibTorchSharpFallbackResult fallback)
    {
        try
        {
            TorchSharp.torch.get_num_threads();
            return null;
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or EntryPointNotFoundException
                                      or NotSupportedException or BadImageFormatException)
        {
            string? note = fallback.Outcome == LibTorchSharpFallbackOutcome.NotApplicable ? null : fallback.Describe();
            return new LoadFailure(LibTorchPackage.LoadFailureMessage(LibTorchPackage.CurrentOS(), RuntimeInformation.ProcessArchitecture, e, note), e);
        }
    }

    /// <summary>
    /// Fits in one process run one at a time: libtorch's intra-op thread count is a process-wide setting, and a fit's
    /// result depends on it (summation order), so two fits of different sizes running at once would change each
    /// other's count and results. Concurrent fits also gain nothing on a CPU-bound libtorch; they queue here instead.
    /// </summary>
    private static readonly SemaphoreSlim FitGate = new(1, 1);

    /// <summary>How often a queued fit checks for cancellation while it waits for the running one.</summary>
    private static readonly TimeSpan GateCheckInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Starts a fit: waits until no other fit of this library runs in the process (calling <paramref name="checkAlive"/>
    /// while waiting, so a queued fit can be cancelled), then sets libtorch's thread count to <paramref name="threads"/>
    /// (≤ 0 leaves it alone). Disposing the result restores the previous count and lets the next fit start. A fit also
    /// waits for the calls a cancelled fit left running (<see cref="CancellableNativeCall"/>), so fits never compute side
    /// by side.
    /// </summary>
    public static IDisposable BeginFit(int threads, Action checkAlive, Action<string>? info = null)
    {
        Initialize();
        if (_fallback is { Outcome: LibTorchSharpFallbackOutcome.LoadedPatchedCopy } fallback)
            info?.Invoke("TorchSharp: " + fallback.Describe() + ".");
        WaitChecking(FitGate.Wait, "Another fit is running in this process; this one waits for it (fits run one at a time).", checkAlive, info);
        try
        {
            WaitHandle leftRunning = ((IAsyncResult)CancellableNativeCall.Pending).AsyncWaitHandle;
            WaitChecking(leftRunning.WaitOne, "A cancelled fit's eigendecomposition is still running in this process; this fit waits for it to end.", checkAlive, info);
            return new FitScope(UseThreads(threads));
        }
        catch
        {
            FitGate.Release();
            throw;
        }
    }

    /// <summary>
    /// Returns at once when <paramref name="wait"/>(0) succeeds; otherwise says <paramref name="message"/> and waits in
    /// steps of <see cref="GateCheckInterval"/>, calling <paramref name="checkAlive"/> before each, so the waiting fit can
    /// be cancelled.
    /// </summary>
    private static void WaitChecking(Func<TimeSpan, bool> wait, string message, Action checkAlive, Action<string>? info)
    {
        if (wait(TimeSpan.Zero))
            return;
        info?.Invoke(message);
        do
            checkAlive();
        while (!wait(GateCheckInterval));
    }

    /// <summary>
    /// Sets libtorch's intra-op thread count (a process-wide setting) for the lifetime of the returned object and then
    /// restores the previous count; <paramref name="count"/> ≤ 0 leaves it alone. Fits use <see cref="BeginFit"/>.
    /// </summary>
    private static IDisposable UseThreads(int count)
    {
        Initialize();
        if (count <= 0)
            return NoThreadChange.Instance;
        int previous = TorchSharp.torch.get_num_threads();
        if (previous == count)
            return NoThreadChange.Instance;
        TorchSharp.torch.set_num_threads(count);
        return new ThreadCountRestorer(previous);
    }

    /// <summary>
    /// Gives the calling thread the fit's thread count. OpenMP keeps the count per thread, so a worker thread that
    /// trains a cross-validation fold must set it too; otherwise it would use the default and sum in another order.
    /// </summary>
    public static void MatchThreadCount(int count)
    {
        if (count > 0 && TorchSharp.torch.get_num_threads() != count)
            TorchSharp.torch.set_num_threads(count);
    }

    private sealed class FitScope(IDisposable threads) : IDisposable
    {
        private IDisposable? _threads = threads;

        public void Dispose()
        {
            IDisposable? threads = Interlocked.Exchange(ref _threads, null);
            if (threads is null)
                return;
            threads.Dispose();
            FitGate.Release();
        }
    }

    private sealed class NoThreadChange : IDisposable
    {
        public static readonly NoThreadChange Instance = new();

        public void Dispose()
        {
        }
    }

    private sealed class ThreadCountRestorer(int previous) : IDisposable
    {
        private int _previous = previous;

        public void Dispose()
        {
            int count = Interlocked.Exchange(ref _previous, 0);
            if (count > 0)
                TorchSharp.torch.set_num_threads(count);
        }
    }

    /// <summary>Whether the loaded libtorch can use a CUDA device (false with the CPU build this package ships).</summary>
    public static bool IsCudaAvailable()
    {
        Initialize();
        return TorchSharp.torch.cuda.is_available();
    }

    /// <summary>The variable as the native environment (what native libraries see) holds it, or null.</summary>
    internal static unsafe string? GetNativeEnvironmentVariable(string name)
    {
        if (!TryGetLibcExport("getenv", out IntPtr getenv))
            return null;
        IntPtr nameUtf8 = Marshal.StringToCoTaskMemUTF8(name);
        try
        {
            IntPtr value = ((delegate* unmanaged<IntPtr, IntPtr>)getenv)(nameUtf8);
            return value == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(value);
        }
        finally
        {
            Marshal.FreeCoTaskMem(nameUtf8);
        }
    }

    private static unsafe void SetNativeEnvironmentVariable(string name, string value)
    {
        if (!TryGetLibcExport("setenv", out IntPtr setenv))
            return;
        IntPtr nameUtf8 = Marshal.StringToCoTaskMemUTF8(name);
        IntPtr valueUtf8 = Marshal.StringToCoTaskMemUTF8(value);
        try
        {
            // overwrite = 0: never replace a value set natively by the host.
            ((delegate* unmanaged<IntPtr, IntPtr, int, int>)setenv)(nameUtf8, valueUtf8, 0);
        }
        finally
        {
            Marshal.FreeCoTaskMem(nameUtf8);
            Marshal.FreeCoTaskMem(valueUtf8);
        }
    }

    private static bool TryGetLibcExport(string name, out IntPtr address)
    {
        address = IntPtr.Zero;
        return NativeLibrary.TryLoad("libc.so.6", out IntPtr libc) && NativeLibrary.TryGetExport(libc, name, out address);
    }
}
