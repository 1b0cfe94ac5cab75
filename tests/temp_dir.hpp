// A fresh, empty directory for one test, removed with all it holds at the
// end of the scope. Its name has the process id and a counter, so no two
// tests share one, not even under ctest's parallel processes.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

namespace artel::test {

struct TempDir {
    std::filesystem::path path;
    explicit TempDir(const std::string& name = "test") {
        static std::atomic<int> counter{0};
        path = std::filesystem::temp_directory_path() /
               ("artel-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

}  // namespace artel::test
