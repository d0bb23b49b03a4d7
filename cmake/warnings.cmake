# Warnings apply to the project's own targets through this interface library.
add_library(wsqt_warnings INTERFACE)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(wsqt_warnings INTERFACE -Wall -Wextra)
endif()
