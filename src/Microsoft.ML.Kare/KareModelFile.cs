using System;
using System.IO;

namespace Microsoft.ML.Kare;

/// <summary>
/// Saving ML.NET models without ever leaving a half-written file behind.
/// </summary>
/// <remarks>
/// <see cref="ModelOperationsCatalog.Save(ITransformer, DataViewSchema, string)"/> truncates the target file and writes
/// the model into it in place: if the process fails, or the model's save throws, part of the way through, the previous
/// model is gone and the file holds a partial zip that no longer loads. <see cref="SaveAtomically"/> writes the whole
/// model to a temporary file beside the target, flushes it to disk, and only then renames it over the target, so that
/// readers of the path see either the old model or the new one.
/// </remarks>
public static class KareModelFile
{
    /// <summary>
    /// Saves <paramref name="model"/> and its input schema to <paramref name="filePath"/> so that the file at that path is
    /// always either the previous complete file (or absent) or the new complete model, never a partial write.
    /// </summary>
    /// <param name="catalog">The model operations catalog, <c>mlContext.Model</c>.</param>
    /// <param name="model">The trained model (any ML.NET transformer, not only KARE models).</param>
    /// <param name="inputSchema">The schema of the model's input, as for <see cref="ModelOperationsCatalog.Save(ITransformer, DataViewSchema, string)"/>; may be null.</param>
    /// <param name="filePath">Where to save the model. An existing file there is replaced only once the new model is completely written.</param>
    /// <remarks>
    /// The model is written to a hidden temporary file in the same folder (<c>.name.guid.tmp</c>), flushed to the storage
    /// device, then moved over <paramref name="filePath"/> with <see cref="File.Move(string, string, bool)"/>, which on the
    /// same file system is an atomic rename (<c>rename(2)</c> on Linux and macOS, <c>MoveFileEx</c> with replace on
    /// Windows). If writing fails, the temporary file is deleted, the existing file is left byte-for-byte unchanged, and
    /// the exception propagates. A process killed between the write and the rename leaves at most the temporary file,
    /// never a damaged target. The folder itself is not flushed, so after a power loss the rename may be undone (the old
    /// model reappears), but the file at the path is still complete.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="catalog"/>, <paramref name="model"/> or <paramref name="filePath"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="filePath"/> is empty or names a folder.</exception>
    public static void SaveAtomically(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema? inputSchema, string filePath)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        string fullPath = Path.GetFullPath(filePath);
        string fileName = Path.GetFileName(fullPath);
        if (fileName.Length == 0 || Directory.Exists(fullPath))
            throw new ArgumentException($"'{filePath}' names a folder, not a model file.", nameof(filePath));
        string directory = Path.GetDirectoryName(fullPath)!;
        string temporaryPath = Path.Combine(directory, TemporaryFilePrefix(fileName) + Guid.NewGuid().ToString("N") + TemporaryFileExtension);

        try
        {
            using (var stream = new FileStream(temporaryPath, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                catalog.Save(model, inputSchema, stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporaryPath, fullPath, overwrite: true);
        }
        catch
        {
            TryDelete(temporaryPath);
            throw;
        }
    }

    /// <summary>The start of the names of the temporary files <see cref="SaveAtomically"/> writes for <paramref name="fileName"/>.</summary>
    internal static string TemporaryFilePrefix(string fileName) => "." + fileName + ".";

    /// <summary>The extension of the temporary files <see cref="SaveAtomically"/> writes.</summary>
    internal const string TemporaryFileExtension = ".tmp";

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // The original exception matters more; a leftover hidden temporary file is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
