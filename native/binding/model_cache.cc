#include "model_cache.h"

#include <filesystem>
#include <map>
#include <mutex>
#include <tuple>

namespace inferd::binding {
namespace {

struct FileKey {
  std::string canonical_path;
  uintmax_t size = 0;
  int64_t modified = 0;  // file clock ticks
  bool optimize = true;  // optimized and as-written graphs are different models
  std::string provider;  // so are a model's CPU and CUDA loads (kernels and weights live apart)
  bool cpu_fallback = true;  // and a CUDA load that refuses CPU-only ops from one that allows them

  bool operator<(const FileKey& other) const {
    return std::tie(canonical_path, size, modified, optimize, provider, cpu_fallback) <
           std::tie(other.canonical_path, other.size, other.modified, other.optimize, other.provider, other.cpu_fallback);
  }
};

// Weak references: the cache never keeps a model alive once its last session is gone.
struct ModelCache {
  std::mutex mutex;
  std::map<FileKey, std::weak_ptr<const Model>> models;
};

ModelCache& cache() {
  static ModelCache* instance = new ModelCache();  // never destroyed: worker threads may outlive statics
  return *instance;
}

}  // namespace

std::shared_ptr<const Model> load_model_shared(const std::string& path, const ModelOptions& options) {
  namespace fs = std::filesystem;
  std::error_code error;
  FileKey key;
  key.canonical_path = fs::canonical(path, error).string();
  if (!error) key.size = fs::file_size(key.canonical_path, error);
  if (!error) key.modified = fs::last_write_time(key.canonical_path, error).time_since_epoch().count();
  // A path we cannot stat is left to the loader, whose error names the file and the reason.
  key.optimize = options.optimize;
  key.provider = options.provider;
  key.cpu_fallback = options.cpu_fallback;
  if (error) return Model::load_file(path, options);

  ModelCache& models = cache();
  // The lock is held while loading so that workers starting together wait for one load instead of
  // each reading the weights into memory of its own.
  std::lock_guard<std::mutex> lock(models.mutex);
  for (auto it = models.models.begin(); it != models.models.end();) {
    it = it->second.expired() ? models.models.erase(it) : std::next(it);
  }
  if (auto found = models.models.find(key); found != models.models.end()) {
    if (auto model = found->second.lock()) return model;
  }
  std::shared_ptr<const Model> model = Model::load_file(path, options);
  models.models[key] = model;
  return model;
}

}  // namespace inferd::binding
