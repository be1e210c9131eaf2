#include <cstdio>

int main() {
  std::puts("dripr: under construction");
  return 0;
}
